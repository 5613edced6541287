import numpy as np
from tensorflow import keras
from tensorflow.keras import layers

vocab_size = 8000       # words kept by the tokenizer
max_ingredients = 40    # ingredient ids per recipe
max_steps_len = 200     # words of the method text
num_nutrients = 6
num_cuisines = 12

ingredients_in = keras.Input(shape=(max_ingredients,), dtype="int32", name="ingredients")
steps_in = keras.Input(shape=(max_steps_len,), dtype="int32", name="steps")
nutrition_in = keras.Input(shape=(num_nutrients,), name="nutrition")

# bag of ingredients
ing = layers.Embedding(vocab_size, 32)(ingredients_in)
ing = layers.GlobalAveragePooling1D()(ing)

# the method text through a small 1D convnet
st = layers.Embedding(vocab_size, 48)(steps_in)
st = layers.Conv1D(64, 5, activation="relu")(st)
st = layers.GlobalMaxPooling1D()(st)

nut = layers.Dense(16, activation="relu")(nutrition_in)

merged = layers.concatenate([ing, st, nut])
hidden = layers.Dense(96, activation="relu")(merged)

cuisine_out = layers.Dense(num_cuisines, activation="softmax", name="cuisine")(hidden)
calories_out = layers.Dense(1, name="calories")(hidden)

model = keras.Model(
    inputs=[ingredients_in, steps_in, nutrition_in],
    outputs=[cuisine_out, calories_out],
)
model.compile(
    optimizer="rmsprop",
    loss={"cuisine": "sparse_categorical_crossentropy", "calories": "mse"},
    loss_weights={"cuisine": 1.0, "calories": 0.05},
)
model.summary()

# random arrays, just to check the wiring before the real data
n = 64
fake_inputs = {
    "ingredients": np.random.randint(vocab_size, size=(n, max_ingredients)),
    "steps": np.random.randint(vocab_size, size=(n, max_steps_len)),
    "nutrition": np.random.random((n, num_nutrients)),
}
fake_targets = {"cuisine": np.random.randint(num_cuisines, size=(n,)), "calories": np.random.random((n, 1))}
