import numpy as np
from keras.models import Sequential
from keras.layers import InputLayer, Dense, Dropout

# X, y: the housing table from the cells above (features already scaled)
n_features = X.shape[1]
print("features:", n_features, "rows:", len(X))

base_width = 256
n_hidden = 4

model = Sequential(name="house_prices")
model.add(InputLayer(input_shape=(n_features,)))
for i in range(n_hidden):
    width = max(int(base_width / 2 ** i), 16)   # 256, 128, 64, 32
    model.add(Dense(width, activation="relu", kernel_initializer="he_normal"))
    if i % 2 == 0:
        model.add(Dropout(0.1))
model.add(Dense(1))

model.compile(optimizer="adam", loss="mse", metrics=["mae"])
model.summary()

# a quick sanity run on a slice of the data
history = model.fit(X[:64], y[:64], epochs=2, batch_size=32, verbose=0)
print(history.history["loss"])
