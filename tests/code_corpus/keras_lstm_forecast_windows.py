import numpy as np
import tensorflow as tf

WINDOW = 48          # past hours seen by the model
HORIZON = 12         # hours predicted
N_FEATURES = 5       # temperature, pressure, humidity, wind x, wind y


def make_windows(series, window=WINDOW, horizon=HORIZON):
    """Slices a (time, features) array into (inputs, targets) pairs."""
    xs, ys = [], []
    for start in range(len(series) - window - horizon + 1):
        xs.append(series[start:start + window])
        ys.append(series[start + window:start + window + horizon, 0])
    return np.array(xs), np.array(ys)


series = np.random.randn(500, N_FEATURES).astype("float32")
x_train, y_train = make_windows(series)
print(x_train.shape, y_train.shape)

model = tf.keras.models.Sequential([
    tf.keras.layers.LSTM(64, return_sequences=True, input_shape=(WINDOW, N_FEATURES)),
    tf.keras.layers.LSTM(32),
    tf.keras.layers.Dense(HORIZON * 2, activation="relu"),
    tf.keras.layers.Dense(HORIZON),
])

model.compile(loss=tf.keras.losses.Huber(), optimizer=tf.keras.optimizers.Adam(1e-3), metrics=["mae"])
model.summary()
