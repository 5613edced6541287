from tensorflow import keras
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Conv2D, AveragePooling2D, Flatten, Dense

# LeNet-5 on 32x32 inputs (the 28x28 digits padded by 2 pixels on each side)
# x_train = np.pad(x_train, ((0, 0), (2, 2), (2, 2), (0, 0)), "constant")

model = Sequential()

# C1: 6 feature maps 28x28, S2: average pooling down to 14x14
model.add(Conv2D(filters=6, kernel_size=(5, 5), activation="tanh", input_shape=(32, 32, 1)))
model.add(AveragePooling2D())

# C3: 16 feature maps 10x10, S4: 5x5
model.add(Conv2D(filters=16, kernel_size=(5, 5), activation="tanh"))
model.add(AveragePooling2D())

model.add(Flatten())

# C5, F6 and the output layer
model.add(Dense(units=120, activation="tanh"))
model.add(Dense(units=84, activation="tanh"))
model.add(Dense(units=10, activation="softmax"))

model.compile(loss=keras.losses.categorical_crossentropy, optimizer="sgd", metrics=["accuracy"])
model.summary()
