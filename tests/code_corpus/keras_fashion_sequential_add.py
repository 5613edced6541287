# Fashion-MNIST with a plain MLP, built one layer at a time
import numpy as np
import matplotlib.pyplot as plt
from tensorflow import keras
from tensorflow.keras import layers

class_names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

# fashion_mnist = keras.datasets.fashion_mnist
# (train_images, train_labels), (test_images, test_labels) = fashion_mnist.load_data()
train_images = train_images / 255.0
test_images = test_images / 255.0

hidden_sizes = [256, 128, 64]

model = keras.Sequential()
model.add(layers.Flatten(input_shape=(28, 28)))
for i, size in enumerate(hidden_sizes):
    model.add(layers.Dense(size, activation="relu", name=f"hidden_{i}"))
    model.add(layers.BatchNormalization())
    if i < len(hidden_sizes) - 1:
        model.add(layers.Dropout(0.2))
model.add(layers.Dense(len(class_names)))

model.compile(optimizer="adam",
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])

model.summary()

# how many images of each class, and one example
print(dict(zip(class_names, np.bincount(train_labels, minlength=len(class_names)))))
plt.imshow(train_images[0], cmap="gray")
plt.title(class_names[train_labels[0]])
plt.show()
