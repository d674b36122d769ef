# Chapter 7's checkpoint, written again so that this chapter stands alone.
recap_graph = tf.Graph()
with recap_graph.as_default():
    v = tf1.Variable(0, dtype=tf.float32, name="v")
    ema = tf1.train.ExponentialMovingAverage(0.99)
    maintain_averages_op = ema.apply([v])
    recap_saver = tf1.train.Saver()
    init_op = tf1.global_variables_initializer()

with tf1.Session(graph=recap_graph) as sess:
    sess.run(init_op)
    sess.run(v.assign(10.0))
    sess.run(maintain_averages_op)
    recap_saver.save(sess, "emamodel/model.ckpt")

recap_reader = tf.train.load_checkpoint("emamodel/model.ckpt")
for key, _ in tf.train.list_variables("emamodel/model.ckpt"):
    # print() shows a float32 with float32 digits; an f-string would widen it to a Python float first.
    print(f"{key:28}", recap_reader.get_tensor(key))
