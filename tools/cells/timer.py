# Timing on a shared machine: each case runs once per round, in turns, and
# every round starts with the next case, so that a busy moment slows all of
# them alike. Noise only ever adds time: the best of the rounds estimates what
# a case costs, the median what a typical run sees. The process's CPU time is
# kept too, since other programs do not inflate it. Garbage collection is off
# during each timed call, as in `timeit`: in a process that holds TensorFlow a
# full collection can take longer than the call itself, and it would land on
# whichever case happened to trigger it. The benchmark in benchmarks/ imports
# this same file.
import gc
import statistics
import time


class Timings:
    """Wall-clock and CPU seconds of the counted runs of one case."""

    def __init__(self):
        self.wall = []
        self.cpu = []

    @property
    def best(self):
        return min(self.wall)

    @property
    def median(self):
        return statistics.median(self.wall)

    @property
    def cpu_best(self):
        return min(self.cpu)


def side_by_side(cases, rounds, warm_up=1, before_round=None):
    """Run every case (a name and a function) once per round, in turns, after
    warm_up rounds that are not counted; return a Timings per name."""
    names = list(cases)
    timings = {name: Timings() for name in names}
    for round_number in range(warm_up + rounds):
        if before_round is not None:
            before_round()
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            collecting = gc.isenabled()
            gc.disable()
            try:
                cpu, wall = time.process_time(), time.perf_counter()
                cases[name]()
                wall = time.perf_counter() - wall
                cpu = time.process_time() - cpu
            finally:
                if collecting:
                    gc.enable()
            if round_number >= warm_up:
                timings[name].wall.append(wall)
                timings[name].cpu.append(cpu)
    return timings
