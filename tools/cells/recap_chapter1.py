def write_chapter1_checkpoint():
    graph = tf.Graph()
    with graph.as_default():
        v1 = tf1.Variable(tf1.constant(1.0, shape=[1]), name="v1")
        v2 = tf1.Variable(tf1.constant(2.0, shape=[1]), name="v2")
        result = v1 + v2
        init_op = tf1.global_variables_initializer()
        saver = tf1.train.Saver()
    with tf1.Session(graph=graph) as sess:
        sess.run(init_op)
        print("v1 + v2 =", sess.run(result))
        return saver.save(sess, "mymodel/model.ckpt")


print("chapter 1's checkpoint:", write_chapter1_checkpoint())
