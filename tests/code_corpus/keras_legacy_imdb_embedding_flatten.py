import numpy as np
from keras.datasets import imdb
from keras.preprocessing import sequence
from keras.models import Sequential
from keras.layers import Embedding, Flatten, Dense, Dropout

max_features = 10000   # most frequent words kept
maxlen = 100           # reviews cut or padded to this many words
embedding_dim = 16

# (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=max_features)
lengths = [len(review) for review in x_train]
print("mean review length: %.1f words" % np.mean(lengths))

# same length for every review: long ones cut, short ones padded with zeros at the front
x_train = sequence.pad_sequences(x_train, maxlen=maxlen)
x_test = sequence.pad_sequences(x_test, maxlen=maxlen)

model = Sequential()
model.add(Embedding(max_features, embedding_dim, input_length=maxlen))
model.add(Flatten())
model.add(Dense(32, activation="relu"))
model.add(Dropout(0.5))
model.add(Dense(1, activation="sigmoid"))

model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
model.summary()
# history = model.fit(x_train, y_train, epochs=10, batch_size=32, validation_split=0.2)
