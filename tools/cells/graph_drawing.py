# Draws a GraphDef left to right: each node stands in the column of its depth
# (the longest path to it from a node without inputs), sorted by name within
# the column, so every edge runs rightwards and the figure is the same on
# every run. Shared by the chapters that draw graphs; each drawing function
# takes `_`, which gives a label in the figure's language (show_figure).
import matplotlib.pyplot as plt
import tensorflow as tf
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

VARIABLE_KIND = "variable, its reads, assignment or initializer"
KIND_COLOURS = {
    VARIABLE_KIND: "#9ecae1",
    "the add": "#fc9272",
    "constant": "#a1d99b",
    "saver (save/...)": "#fdd49e",
    "other": "#d9d9d9",
}
# Resource variables (TF2, and tf.compat.v1 today) and reference variables
# (TF 1.x: VariableV2, read through an Identity named .../read).
VARIABLE_OPS = {
    "VarHandleOp",
    "ReadVariableOp",
    "AssignVariableOp",
    "VarIsInitializedOp",
    "VariableV2",
    "Assign",
    "IsVariableInitialized",
}
FIGURE_LABELS.update(
    {
        VARIABLE_KIND: "变量及其读取、赋值或初始化器",
        "the add": "加法",
        "constant": "常量",
        "saver (save/...)": "Saver 的节点（save/...）",
        "other": "其他",
        "dropped by freezing": "冻结时删去",
        "data input": "数据输入",
        "control input (^name)": "控制输入（^name）",
        "depth: longest path from a node without inputs": "深度：从无输入的节点出发的最长路径",
        "Before freezing: {n} nodes": "冻结前：{n} 个节点",
        "After {freezer}: {n} nodes": "{freezer} 之后：{n} 个节点",
    }
)


def node_inputs(node):
    """(source node, is a control input) for each input: "name:N" is output
    N of node "name", and "^name" a control input (run first, pass no value)."""
    return [
        (name.lstrip("^").split(":")[0], name.startswith("^"))
        for name in node.input
    ]


def columns_by_depth(graph_def):
    inputs = {node.name: node_inputs(node) for node in graph_def.node}
    depth = {}

    def depth_of(name):
        if name not in depth:
            depth[name] = 1 + max(
                (depth_of(source) for source, _ in inputs[name]), default=-1
            )
        return depth[name]

    columns = {}
    for name in sorted(inputs):
        columns.setdefault(depth_of(name), []).append(name)
    return [columns[d] for d in sorted(columns)]


def node_kind(node):
    if node.name.startswith("save/") or "/save/" in node.name:
        return "saver (save/...)"
    if node.op in ("Add", "AddV2"):
        return "the add"
    if node.op == "Const":
        return "constant"
    # A tf.function receives each variable it uses as a resource placeholder.
    captured = (
        node.op == "Placeholder"
        and node.attr["dtype"].type == tf.resource.as_datatype_enum
    )
    old_read = node.op == "Identity" and node.name.endswith("/read")
    if node.op in VARIABLE_OPS or node.name == "init" or captured or old_read:
        return VARIABLE_KIND
    return "other"


def draw_graph(ax, graph_def, title, kept=None):
    """Draw graph_def on ax; nodes not in `kept` (if given) look dropped."""
    nodes = {node.name: node for node in graph_def.node}
    columns = columns_by_depth(graph_def)
    boxes = {}
    for x, names in enumerate(columns):
        for row, name in enumerate(names):
            dropped = kept is not None and name not in kept
            # Long names break at their last "/" so that columns stay narrow.
            label = "/\n".join(name.rsplit("/", 1)) if len(name) > 16 else name
            boxes[name] = ax.text(
                x,
                (len(names) - 1) / 2 - row,
                f"{label}\n[{nodes[name].op}]",
                ha="center",
                va="center",
                fontsize=10,
                color="dimgray" if dropped else "black",
                bbox=dict(
                    boxstyle="round,pad=0.3",
                    fc=KIND_COLOURS[node_kind(nodes[name])],
                    ec="gray" if dropped else "black",
                    ls="--" if dropped else "-",
                ),
            )
    for name in sorted(nodes):
        for source, control in node_inputs(nodes[name]):
            ax.annotate(
                "",
                xy=(0, 0.5),
                xycoords=boxes[name],
                xytext=(1, 0.5),
                textcoords=boxes[source],
                arrowprops=dict(
                    arrowstyle="->",
                    color="0.35",
                    ls="--" if control else "-",
                    shrinkA=2,
                    shrinkB=2,
                ),
            )
    half_height = max(len(names) for names in columns) / 2
    ax.set(xlim=(-0.6, len(columns) - 0.4), title=title)
    ax.set_ylim(-half_height - 0.1, half_height + 0.1)
    ax.set_xticks(range(len(columns)))
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)


def legend_handles(_, graph_defs, with_dropped=False):
    """Legend entries for the kinds of node the graphs hold, then edges."""
    kinds = {node_kind(node) for g in graph_defs for node in g.node}
    handles = [
        Patch(fc=colour, ec="black", label=_(kind))
        for kind, colour in KIND_COLOURS.items()
        if kind in kinds
    ]
    if with_dropped:
        handles.append(
            Patch(
                fc="white", ec="gray", ls="--", label=_("dropped by freezing")
            )
        )
    return handles + [
        Line2D([], [], color="0.35", label=_("data input")),
        Line2D(
            [], [], color="0.35", ls="--", label=_("control input (^name)")
        ),
    ]


def figure_size(*graph_defs):
    """Width from the widest graph, height from the tallest columns."""
    columns = [columns_by_depth(g) for g in graph_defs]
    width = max(2.2 * len(c) for c in columns)
    rows = [max(len(names) for names in c) for c in columns]
    return max(width, 10), 1.2 + sum(0.75 * r + 0.9 for r in rows), rows


def show_graph(_, graph_def, title):
    """One GraphDef, drawn with its legend below (draw it with show_figure)."""
    width, height = figure_size(graph_def)[:2]
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    draw_graph(ax, graph_def, title)
    ax.set_xlabel(_("depth: longest path from a node without inputs"))
    fig.legend(
        handles=legend_handles(_, [graph_def]),
        loc="outside lower center",
        ncol=4,
        fontsize=10,
    )


def draw_before_and_after(_, before, after, title, freezer):
    """Two GraphDefs one above the other; nodes of `before` that `after`
    lacks are drawn as dropped (draw it with show_figure)."""
    width, height, rows = figure_size(before, after)
    fig, (ax_before, ax_after) = plt.subplots(
        2,
        1,
        figsize=(width, height),
        height_ratios=[r + 1 for r in rows],
        layout="constrained",
    )
    draw_graph(
        ax_before,
        before,
        _("Before freezing: {n} nodes").format(n=len(before.node)),
        kept={node.name for node in after.node},
    )
    draw_graph(
        ax_after,
        after,
        _("After {freezer}: {n} nodes").format(
            freezer=freezer, n=len(after.node)
        ),
    )
    ax_after.set_xlabel(_("depth: longest path from a node without inputs"))
    fig.legend(
        handles=legend_handles(_, [before, after], with_dropped=True),
        loc="outside lower center",
        ncol=4,
        fontsize=10,
    )
    fig.suptitle(title)
