"""Keras 2's built-in layer classes and the arguments each one's __init__
takes beyond those of every layer, from tf_keras 2.21.0. A layer of a
Keras 2 file whose class is not here is the author's own; one whose config
has none of its namesake's arguments is the author's own class under a
built-in's name. Written by tools/builtin_layers.py: do not edit."""

# One class a line, its arguments after the colon; an indented line
# continues the one above.
_TABLE = """
AbstractRNNCell:
Activation: activation
ActivityRegularization: l1 l2
Add:
AdditiveAttention: use_scale
AlphaDropout: rate noise_shape seed
Attention: use_scale score_mode
Average:
AveragePooling1D: pool_size strides padding data_format
AveragePooling2D: pool_size strides padding data_format
AveragePooling3D: pool_size strides padding data_format
AvgPool1D: pool_size strides padding data_format
AvgPool2D: pool_size strides padding data_format
AvgPool3D: pool_size strides padding data_format
BatchNormalization: axis momentum epsilon center scale beta_initializer
    gamma_initializer moving_mean_initializer moving_variance_initializer
    beta_regularizer gamma_regularizer beta_constraint gamma_constraint
    synchronized
Bidirectional: layer merge_mode weights backward_layer
CategoryEncoding: num_tokens output_mode sparse
CenterCrop: height width
Concatenate: axis
Conv1D: filters kernel_size strides padding data_format dilation_rate groups
    activation use_bias kernel_initializer bias_initializer kernel_regularizer
    bias_regularizer activity_regularizer kernel_constraint bias_constraint
Conv1DTranspose: filters kernel_size strides padding output_padding
    data_format dilation_rate activation use_bias kernel_initializer
    bias_initializer kernel_regularizer bias_regularizer activity_regularizer
    kernel_constraint bias_constraint
Conv2D: filters kernel_size strides padding data_format dilation_rate groups
    activation use_bias kernel_initializer bias_initializer kernel_regularizer
    bias_regularizer activity_regularizer kernel_constraint bias_constraint
Conv2DTranspose: filters kernel_size strides padding output_padding
    data_format dilation_rate activation use_bias kernel_initializer
    bias_initializer kernel_regularizer bias_regularizer activity_regularizer
    kernel_constraint bias_constraint
Conv3D: filters kernel_size strides padding data_format dilation_rate groups
    activation use_bias kernel_initializer bias_initializer kernel_regularizer
    bias_regularizer activity_regularizer kernel_constraint bias_constraint
Conv3DTranspose: filters kernel_size strides padding output_padding
    data_format dilation_rate activation use_bias kernel_initializer
    bias_initializer kernel_regularizer bias_regularizer activity_regularizer
    kernel_constraint bias_constraint
ConvLSTM1D: filters kernel_size strides padding data_format dilation_rate
    activation recurrent_activation use_bias kernel_initializer
    recurrent_initializer bias_initializer unit_forget_bias kernel_regularizer
    recurrent_regularizer bias_regularizer activity_regularizer
    kernel_constraint recurrent_constraint bias_constraint return_sequences
    return_state go_backwards stateful dropout recurrent_dropout
ConvLSTM2D: filters kernel_size strides padding data_format dilation_rate
    activation recurrent_activation use_bias kernel_initializer
    recurrent_initializer bias_initializer unit_forget_bias kernel_regularizer
    recurrent_regularizer bias_regularizer activity_regularizer
    kernel_constraint recurrent_constraint bias_constraint return_sequences
    return_state go_backwards stateful dropout recurrent_dropout
ConvLSTM3D: filters kernel_size strides padding data_format dilation_rate
    activation recurrent_activation use_bias kernel_initializer
    recurrent_initializer bias_initializer unit_forget_bias kernel_regularizer
    recurrent_regularizer bias_regularizer activity_regularizer
    kernel_constraint recurrent_constraint bias_constraint return_sequences
    return_state go_backwards stateful dropout recurrent_dropout
Convolution1D: filters kernel_size strides padding data_format dilation_rate
    groups activation use_bias kernel_initializer bias_initializer
    kernel_regularizer bias_regularizer activity_regularizer kernel_constraint
    bias_constraint
Convolution1DTranspose: filters kernel_size strides padding output_padding
    data_format dilation_rate activation use_bias kernel_initializer
    bias_initializer kernel_regularizer bias_regularizer activity_regularizer
    kernel_constraint bias_constraint
Convolution2D: filters kernel_size strides padding data_format dilation_rate
    groups activation use_bias kernel_initializer bias_initializer
    kernel_regularizer bias_regularizer activity_regularizer kernel_constraint
    bias_constraint
Convolution2DTranspose: filters kernel_size strides padding output_padding
    data_format dilation_rate activation use_bias kernel_initializer
    bias_initializer kernel_regularizer bias_regularizer activity_regularizer
    kernel_constraint bias_constraint
Convolution3D: filters kernel_size strides padding data_format dilation_rate
    groups activation use_bias kernel_initializer bias_initializer
    kernel_regularizer bias_regularizer activity_regularizer kernel_constraint
    bias_constraint
Convolution3DTranspose: filters kernel_size strides padding output_padding
    data_format dilation_rate activation use_bias kernel_initializer
    bias_initializer kernel_regularizer bias_regularizer activity_regularizer
    kernel_constraint bias_constraint
Cropping1D: cropping
Cropping2D: cropping data_format
Cropping3D: cropping data_format
Dense: units activation use_bias kernel_initializer bias_initializer
    kernel_regularizer bias_regularizer activity_regularizer kernel_constraint
    bias_constraint
DenseFeatures: feature_columns
DepthwiseConv1D: kernel_size strides padding depth_multiplier data_format
    dilation_rate activation use_bias depthwise_initializer bias_initializer
    depthwise_regularizer bias_regularizer activity_regularizer
    depthwise_constraint bias_constraint
DepthwiseConv2D: kernel_size strides padding depth_multiplier data_format
    dilation_rate activation use_bias depthwise_initializer bias_initializer
    depthwise_regularizer bias_regularizer activity_regularizer
    depthwise_constraint bias_constraint
Discretization: bin_boundaries num_bins epsilon output_mode sparse
Dot: axes normalize
Dropout: rate noise_shape seed
ELU: alpha
EinsumDense: equation output_shape activation bias_axes kernel_initializer
    bias_initializer kernel_regularizer bias_regularizer activity_regularizer
    kernel_constraint bias_constraint
Embedding: input_dim output_dim embeddings_initializer embeddings_regularizer
    activity_regularizer embeddings_constraint mask_zero input_length sparse
Flatten: data_format
Functional:
GRU: units activation recurrent_activation use_bias kernel_initializer
    recurrent_initializer bias_initializer kernel_regularizer
    recurrent_regularizer bias_regularizer activity_regularizer
    kernel_constraint recurrent_constraint bias_constraint dropout
    recurrent_dropout return_sequences return_state go_backwards stateful
    unroll time_major reset_after
GRUCell: units activation recurrent_activation use_bias kernel_initializer
    recurrent_initializer bias_initializer kernel_regularizer
    recurrent_regularizer bias_regularizer kernel_constraint
    recurrent_constraint bias_constraint dropout recurrent_dropout reset_after
GaussianDropout: rate seed
GaussianNoise: stddev seed
GlobalAveragePooling1D: data_format
GlobalAveragePooling2D: data_format keepdims
GlobalAveragePooling3D: data_format keepdims
GlobalAvgPool1D: data_format
GlobalAvgPool2D: data_format keepdims
GlobalAvgPool3D: data_format keepdims
GlobalMaxPool1D: data_format keepdims
GlobalMaxPool2D: data_format keepdims
GlobalMaxPool3D: data_format keepdims
GlobalMaxPooling1D: data_format keepdims
GlobalMaxPooling2D: data_format keepdims
GlobalMaxPooling3D: data_format keepdims
GroupNormalization: groups axis epsilon center scale beta_initializer
    gamma_initializer beta_regularizer gamma_regularizer beta_constraint
    gamma_constraint
HashedCrossing: num_bins output_mode sparse
Hashing: num_bins mask_value salt output_mode sparse
Identity:
InputLayer: input_shape batch_size input_tensor sparse ragged type_spec
    optional
IntegerLookup: max_tokens num_oov_indices mask_token oov_token vocabulary
    vocabulary_dtype idf_weights invert output_mode sparse pad_to_max_tokens
LSTM: units activation recurrent_activation use_bias kernel_initializer
    recurrent_initializer bias_initializer unit_forget_bias kernel_regularizer
    recurrent_regularizer bias_regularizer activity_regularizer
    kernel_constraint recurrent_constraint bias_constraint dropout
    recurrent_dropout return_sequences return_state go_backwards stateful
    time_major unroll
LSTMCell: units activation recurrent_activation use_bias kernel_initializer
    recurrent_initializer bias_initializer unit_forget_bias kernel_regularizer
    recurrent_regularizer bias_regularizer kernel_constraint
    recurrent_constraint bias_constraint dropout recurrent_dropout
Lambda: function output_shape mask arguments
Layer:
LayerNormalization: axis epsilon center scale beta_initializer
    gamma_initializer beta_regularizer gamma_regularizer beta_constraint
    gamma_constraint
LeakyReLU: alpha
LocallyConnected1D: filters kernel_size strides padding data_format activation
    use_bias kernel_initializer bias_initializer kernel_regularizer
    bias_regularizer activity_regularizer kernel_constraint bias_constraint
    implementation
LocallyConnected2D: filters kernel_size strides padding data_format activation
    use_bias kernel_initializer bias_initializer kernel_regularizer
    bias_regularizer activity_regularizer kernel_constraint bias_constraint
    implementation
Masking: mask_value
MaxPool1D: pool_size strides padding data_format
MaxPool2D: pool_size strides padding data_format
MaxPool3D: pool_size strides padding data_format
MaxPooling1D: pool_size strides padding data_format
MaxPooling2D: pool_size strides padding data_format
MaxPooling3D: pool_size strides padding data_format
Maximum:
Minimum:
Model:
MultiHeadAttention: num_heads key_dim value_dim dropout use_bias output_shape
    attention_axes kernel_initializer bias_initializer kernel_regularizer
    bias_regularizer activity_regularizer kernel_constraint bias_constraint
    softmax_robust_masking
Multiply:
Normalization: axis mean variance invert
PReLU: alpha_initializer alpha_regularizer alpha_constraint shared_axes
Permute: dims
RNN: cell return_sequences return_state go_backwards stateful unroll
    time_major
RandomBrightness: factor value_range seed
RandomContrast: factor seed
RandomCrop: height width seed
RandomFlip: mode seed
RandomHeight: factor interpolation seed
RandomRotation: factor fill_mode interpolation seed fill_value
RandomTranslation: height_factor width_factor fill_mode interpolation seed
    fill_value
RandomWidth: factor interpolation seed
RandomZoom: height_factor width_factor fill_mode interpolation seed fill_value
ReLU: max_value negative_slope threshold
RepeatVector: n
Rescaling: scale offset
Reshape: target_shape
Resizing: height width interpolation crop_to_aspect_ratio
SeparableConv1D: filters kernel_size strides padding data_format dilation_rate
    depth_multiplier activation use_bias depthwise_initializer
    pointwise_initializer bias_initializer depthwise_regularizer
    pointwise_regularizer bias_regularizer activity_regularizer
    depthwise_constraint pointwise_constraint bias_constraint
SeparableConv2D: filters kernel_size strides padding data_format dilation_rate
    depth_multiplier activation use_bias depthwise_initializer
    pointwise_initializer bias_initializer depthwise_regularizer
    pointwise_regularizer bias_regularizer activity_regularizer
    depthwise_constraint pointwise_constraint bias_constraint
SeparableConvolution1D: filters kernel_size strides padding data_format
    dilation_rate depth_multiplier activation use_bias depthwise_initializer
    pointwise_initializer bias_initializer depthwise_regularizer
    pointwise_regularizer bias_regularizer activity_regularizer
    depthwise_constraint pointwise_constraint bias_constraint
SeparableConvolution2D: filters kernel_size strides padding data_format
    dilation_rate depth_multiplier activation use_bias depthwise_initializer
    pointwise_initializer bias_initializer depthwise_regularizer
    pointwise_regularizer bias_regularizer activity_regularizer
    depthwise_constraint pointwise_constraint bias_constraint
Sequential:
SimpleRNN: units activation use_bias kernel_initializer recurrent_initializer
    bias_initializer kernel_regularizer recurrent_regularizer bias_regularizer
    activity_regularizer kernel_constraint recurrent_constraint
    bias_constraint dropout recurrent_dropout return_sequences return_state
    go_backwards stateful unroll
SimpleRNNCell: units activation use_bias kernel_initializer
    recurrent_initializer bias_initializer kernel_regularizer
    recurrent_regularizer bias_regularizer kernel_constraint
    recurrent_constraint bias_constraint dropout recurrent_dropout
Softmax: axis robust_masking
SpatialDropout1D: rate
SpatialDropout2D: rate data_format
SpatialDropout3D: rate data_format
SpectralNormalization: layer power_iterations
StackedRNNCells: cells
StringLookup: max_tokens num_oov_indices mask_token oov_token vocabulary
    idf_weights encoding invert output_mode sparse pad_to_max_tokens
Subtract:
TextVectorization: max_tokens standardize split ngrams output_mode
    output_sequence_length pad_to_max_tokens vocabulary idf_weights sparse
    ragged encoding
ThresholdedReLU: theta
TimeDistributed: layer
UnitNormalization: axis
UpSampling1D: size
UpSampling2D: size data_format interpolation
UpSampling3D: size data_format
Wrapper: layer
ZeroPadding1D: padding
ZeroPadding2D: padding data_format
ZeroPadding3D: padding data_format
"""


def _parse(table):
    rows, name = {}, None
    for line in table.strip("\n").splitlines():
        if not line.startswith(" "):
            name, _, line = line.partition(":")
            rows[name] = ()
        rows[name] += tuple(line.split())
    return rows


BUILTIN_LAYERS = _parse(_TABLE)
