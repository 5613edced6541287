// A model file dropped on the page (or chosen with the button): read here, in the browser,
// only as far as a count needs, and only that is sent to POST /api/file (serve/_drop.py):
// a config.json or safetensors index as it is; a safetensors file's 8-byte length and JSON
// header; a GGUF file's header and tensor table; a .keras zip's config.json member; an ONNX
// model with each large initializer's bytes cut out (its name, type and dims kept). The
// weights never leave the user's computer, and the page says how much did.
"use strict";

const LearnableDrop = (() => {
  const MAX_SEND = 32 * 1024 * 1024 - 64 * 1024; // serve/_drop.py's MAX_FILE_REQUEST_BYTES, less the JSON line
  const MAX_CONFIG = 16 * 1024 * 1024; // hf_config.py's MAX_CONFIG_BYTES
  const STRIPPED = "learnable:not-sent"; // _drop.STRIPPED: an initializer whose bytes stayed here
  const ONNX_KEEP = 16 * 1024; // initializers this small are sent whole (shape inference may read their values)

  class Refusal extends Error {}
  class NeedMore extends Error {}

  // --- reading a file's few bytes ------------------------------------------------------

  const slice = async (file, start, end) => new Uint8Array(await file.slice(start, end).arrayBuffer());
  const u64 = (view, at, little) => {
    const value = view.getBigUint64(at, little);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Refusal("declares a size over 2^53 bytes; not a real file");
    return Number(value);
  };
  const tooLong = (what, bytes) => new Refusal(`${what} is ${size(bytes)}, more than the ${size(MAX_SEND)} this ` +
    "page sends; count the file with the command line: learnable count FILE");

  async function wholeText(file, kind) {
    if (file.size > MAX_CONFIG) throw new Refusal(`is ${size(file.size)}; a ${kind} is a few KB`);
    return { kind, data: await slice(file, 0, file.size), what: `the whole ${kind}: it holds no weights` };
  }

  async function safetensors(file) {
    if (file.size < 8) throw new Refusal("is too short to be a safetensors file");
    const length = u64(new DataView((await slice(file, 0, 8)).buffer), 0, true);
    if (8 + length > file.size) throw new Refusal(`declares a ${size(length)} header in a ${size(file.size)} file; ` +
      "not a safetensors file");
    if (8 + length > MAX_SEND) throw tooLong("its header", length);
    return { kind: "safetensors", data: await slice(file, 0, 8 + length), what: "its header: names, dtypes, shapes" };
  }

  // GGUF (llama.cpp's docs/gguf.md): read a growing prefix until the tensor table ends in it.
  async function gguf(file) {
    for (let have = Math.min(file.size, 1 << 20); ; have = Math.min(file.size, have * 4, MAX_SEND)) {
      const bytes = await slice(file, 0, have);
      try {
        const end = ggufHeaderEnd(bytes);
        return { kind: "gguf", data: bytes.subarray(0, end), what: "its header: metadata and the tensor table" };
      } catch (err) {
        if (!(err instanceof NeedMore)) throw err;
        if (have >= file.size) throw new Refusal("ends inside its header: the file is truncated");
        if (have >= MAX_SEND) throw tooLong("its header", file.size > have ? have : file.size);
      }
    }
  }

  const SCALAR_BYTES = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

  function ggufHeaderEnd(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 24) throw new NeedMore();
    if (String.fromCharCode(...bytes.subarray(0, 4)) !== "GGUF") throw new Refusal("does not start with GGUF's magic");
    const little = (view.getUint32(4, true) & 0xffff) !== 0; // a big-endian file has its version in the high half
    let pos = 8;
    const need = (n) => { if (pos + n > bytes.length) throw new NeedMore(); };
    const u32 = () => { need(4); pos += 4; return view.getUint32(pos - 4, little); };
    const count = () => { need(8); pos += 8; return u64(view, pos - 8, little); };
    const string = () => { const n = count(); need(n); pos += n; };
    const value = (type, depth) => {
      if (type in SCALAR_BYTES) { need(SCALAR_BYTES[type]); pos += SCALAR_BYTES[type]; return; }
      if (type === 8) return string();
      if (type !== 9 || depth > 4) throw new Refusal(`has a metadata value of type ${type}; not a valid GGUF file`);
      const item = u32();
      const n = count();
      if (item in SCALAR_BYTES) { need(n * SCALAR_BYTES[item]); pos += n * SCALAR_BYTES[item]; return; }
      for (let i = 0; i < n; i++) value(item, depth + 1); // each item takes bytes: the prefix bounds the loop
    };
    const tensors = count();
    const keys = count();
    for (let i = 0; i < keys; i++) { string(); value(u32(), 0); }
    for (let i = 0; i < tensors; i++) {
      string();
      const dims = u32();
      if (dims > 4) throw new Refusal("has a tensor of more than 4 dimensions; not a valid GGUF file");
      need(8 * dims + 12);
      pos += 8 * dims + 12; // sizes, ggml type, data offset
    }
    return pos;
  }

  // --- .keras: a zip; its directory from the end, then config.json alone -----------------

  async function keras(file) {
    const tail = await slice(file, Math.max(0, file.size - 65557), file.size); // EOCD + the longest comment
    const view = new DataView(tail.buffer);
    let eocd = -1;
    for (let at = tail.length - 22; at >= 0 && eocd < 0; at--) if (view.getUint32(at, true) === 0x06054b50) eocd = at;
    if (eocd < 0) throw new Refusal("is not a .keras file: not a zip archive");
    let [entries, dirSize, dirAt] = [view.getUint16(eocd + 10, true), view.getUint32(eocd + 12, true),
      view.getUint32(eocd + 16, true)];
    if (dirAt === 0xffffffff && eocd >= 20 && view.getUint32(eocd - 20, true) === 0x07064b50) { // zip64
      const at = u64(view, eocd - 12, true);
      const z = new DataView((await slice(file, at, at + 56)).buffer);
      [entries, dirSize, dirAt] = [u64(z, 32, true), u64(z, 40, true), u64(z, 48, true)];
    }
    if (dirSize > 16 * 1024 * 1024 || entries > 10000) throw new Refusal("has a zip directory too large for a .keras");
    const member = zipMember(await slice(file, dirAt, dirAt + dirSize), "config.json");
    if (!member) throw new Refusal("is not a Keras 3 .keras file: the zip holds no config.json");
    if (member.size > MAX_SEND) throw tooLong("its config.json", member.size);
    const local = new DataView((await slice(file, member.at, member.at + 30)).buffer);
    if (local.getUint32(0, true) !== 0x04034b50) throw new Refusal("has a zip entry that points at no member");
    const start = member.at + 30 + local.getUint16(26, true) + local.getUint16(28, true);
    let data = await slice(file, start, start + member.packed);
    if (member.method === 8) data = await inflate(data, member.size);
    else if (member.method !== 0) throw new Refusal(`stores config.json with zip method ${member.method}`);
    return { kind: "keras", data, what: "config.json from the zip; model.weights.h5 stayed here" };
  }

  function zipMember(dir, wanted) {
    const view = new DataView(dir.buffer);
    for (let at = 0; at + 46 <= dir.length && view.getUint32(at, true) === 0x02014b50;) {
      const [nameLength, extraLength, commentLength] = [28, 30, 32].map((o) => view.getUint16(at + o, true));
      const name = new TextDecoder().decode(dir.subarray(at + 46, at + 46 + nameLength));
      if (name === wanted) {
        const found = { method: view.getUint16(at + 10, true), packed: view.getUint32(at + 20, true),
          size: view.getUint32(at + 24, true), at: view.getUint32(at + 42, true) };
        let extra = at + 46 + nameLength; // zip64: the 0xffffffff fields, in this order, in extra field 1
        const end = extra + extraLength;
        while (extra + 4 <= end) {
          const [id, length] = [view.getUint16(extra, true), view.getUint16(extra + 2, true)];
          if (id === 1) {
            let field = extra + 4;
            for (const key of ["size", "packed", "at"]) {
              if (found[key] === 0xffffffff) { found[key] = u64(view, field, true); field += 8; }
            }
          }
          extra += 4 + length;
        }
        return found;
      }
      at += 46 + nameLength + extraLength + commentLength;
    }
    return null;
  }

  async function inflate(data, declared) {
    const stream = new Blob([data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    const chunks = [];
    let total = 0;
    for (const reader = stream.getReader(); ;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > Math.max(declared, 0) || total > MAX_SEND) throw new Refusal("has a config.json that inflates " +
        "past its declared size");
      chunks.push(value);
    }
    return concat(chunks);
  }

  // --- ONNX: the protobuf walked here; large initializers' bytes left behind ---------------

  // A window on the file: reads 1 MB at a time, so skipping a weight's bytes costs nothing.
  function windowed(file) {
    let start = 0;
    let bytes = new Uint8Array(0);
    return async (at, n) => {
      if (at < start || at + n > start + bytes.length) {
        start = at;
        bytes = await slice(file, at, Math.min(file.size, at + Math.max(n, 1 << 20)));
        if (bytes.length < n) throw new Refusal("ends inside a protobuf field; not an ONNX model");
      }
      return bytes.subarray(at - start, at - start + n);
    };
  }

  async function fields(read, start, end, each) {
    for (let pos = start; pos < end;) {
      const [key, afterKey] = await varint(read, pos);
      const wire = key % 8;
      let length = { 0: 0, 1: 8, 5: 4 }[wire];
      let body = afterKey;
      if (wire === 0) body = (await varint(read, afterKey))[1], length = 0;
      else if (wire === 2) [length, body] = await varint(read, afterKey);
      else if (length === undefined) throw new Refusal(`has protobuf wire type ${wire}; not an ONNX model`);
      const next = body + length;
      if (next > end) throw new Refusal("has a protobuf field past its end; not an ONNX model");
      await each(Math.floor(key / 8), wire, pos, body, next);
      pos = next;
    }
  }

  async function varint(read, pos) {
    let value = 0;
    for (let shift = 1, i = 0; i < 10; i++, shift *= 128) {
      const [byte] = await read(pos + i, 1);
      value += (byte & 127) * shift;
      if (byte < 128) {
        if (value > Number.MAX_SAFE_INTEGER) throw new Refusal("has a protobuf number over 2^53");
        return [value, pos + i + 1];
      }
    }
    throw new Refusal("has a malformed protobuf number; not an ONNX model");
  }

  const encode = (value) => {
    const out = [];
    for (; value >= 128; value = Math.floor(value / 128)) out.push((value % 128) | 128);
    out.push(value);
    return Uint8Array.from(out);
  };
  const field = (number, payload) => concat([encode(number * 8 + 2), encode(payload.length), payload]);
  const text = (s) => new TextEncoder().encode(s);

  async function onnx(file) {
    if (file.size > 2 ** 31) throw new Refusal("is over 2 GB; an ONNX file holds at most 2 GB");
    const read = windowed(file);
    const out = [];
    let stripped = 0;
    await fields(read, 0, file.size, async (number, wire, pos, body, next) => {
      if (number !== 7 || wire !== 2) return out.push(await read(pos, next - pos)); // all but the graph, as it is
      const graph = [];
      await fields(read, body, next, async (n, w, p, b, e) => {
        if (n !== 5 || w !== 2) return graph.push(await read(p, e - p)); // nodes, inputs, ...: as they are
        const tensor = [];
        let cut = 0;
        await fields(read, b, e, async (t, tw, tp, tb, te) => {
          if (t === 9 && tw === 2 && te - tb > ONNX_KEEP) cut = te - tb; // raw_data: its length only
          else tensor.push(await read(tp, te - tp));
        });
        if (cut) {
          stripped++;
          tensor.push(field(13, concat([field(1, text("location")), field(2, text(STRIPPED))])),
            field(13, concat([field(1, text("length")), field(2, text(String(cut)))])), Uint8Array.from([14 * 8, 1]));
        }
        graph.push(field(5, concat(tensor)));
      });
      out.push(field(7, concat(graph)));
    });
    const data = concat(out);
    if (data.length > MAX_SEND) throw tooLong("its graph without the large weights", data.length);
    return { kind: "onnx", data, what: `the graph and ${stripped} large weights' names, types and shapes` };
  }

  // --- which files, and the request -----------------------------------------------------

  function concat(chunks) {
    const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
    let at = 0;
    for (const chunk of chunks) { out.set(chunk, at); at += chunk.length; }
    return out;
  }

  function reader(name) {
    const lower = name.toLowerCase();
    if (lower.endsWith(".safetensors.index.json")) return (file) => wholeText(file, "index");
    if (lower === "config.json") return (file) => wholeText(file, "config");
    if (lower.endsWith(".safetensors")) return safetensors;
    if (lower.endsWith(".gguf")) return gguf;
    if (lower.endsWith(".keras")) return keras;
    if (lower.endsWith(".onnx")) return onnx;
    return null;
  }

  // The parts to send: each file the page can read; in a folder, the others are left out.
  async function read(files) {
    const known = files.filter((f) => reader(f.name));
    if (!known.length) {
      throw new Refusal(`${files.length === 1 ? files[0].name : "these files"}: the page reads config.json, ` +
        "*.safetensors(.index.json), .gguf, .keras and .onnx (other formats: learnable count FILE)");
    }
    const parts = [];
    for (const file of known) {
      try {
        parts.push({ name: file.name, size: file.size, ...(await reader(file.name)(file)) });
      } catch (err) {
        throw err instanceof Refusal || err instanceof RangeError ? new Refusal(`${file.name} ${err.message}`) : err;
      }
    }
    return parts;
  }

  function body(options, parts) {
    const files = parts.map((p) => ({ name: p.name, kind: p.kind, size: p.size, length: p.data.length }));
    return new Blob([JSON.stringify({ ...options, files }), "\n", ...parts.map((p) => p.data)]);
  }

  function size(bytes) {
    const units = ["bytes", "KB", "MB", "GB", "TB"];
    let i = 0;
    for (; bytes >= 1000 && i < units.length - 1; i++) bytes /= 1000;
    return i ? `${bytes.toFixed(bytes < 10 ? 1 : 0)} ${units[i]}` : `${bytes} bytes`;
  }

  function sentNote(parts) {
    const sent = parts.reduce((sum, p) => sum + p.data.length, 0);
    const total = parts.reduce((sum, p) => sum + p.size, 0);
    const what = parts.length === 1 ? ` (${parts[0].what})` : ` (${parts.map((p) => `${p.name}: ${p.what}`).join("; ")})`;
    return `Sent ${size(sent)} of ${size(total)}${what}; the weights stayed on your computer.`;
  }

  // Files from a drop: a folder's files (one level: a Hugging Face folder is flat), or the files.
  async function dropped(transfer) {
    const entries = [...transfer.items].map((item) => item.webkitGetAsEntry && item.webkitGetAsEntry()).filter(Boolean);
    const folder = entries.find((e) => e.isDirectory);
    if (!folder) return [...transfer.files];
    const children = await new Promise((resolve, reject) => folder.createReader().readEntries(resolve, reject));
    return Promise.all(children.filter((e) => e.isFile).map((e) => new Promise((resolve, reject) => e.file(resolve, reject))));
  }

  // app.js hands over: options() (the count's options, spec aside), show(payload, request),
  // fail(error) and status(text).
  function wire(app) {
    const note = document.getElementById("drop-note");
    async function count(files) {
      note.textContent = "";
      let parts;
      try {
        parts = await read(files);
      } catch (err) {
        return app.fail({ message: err instanceof Refusal ? err.message : `could not read the file: ${err.message}` });
      }
      const again = async (format) => post(app.options(), parts, format);
      app.status("Counting…");
      const result = await post(app.options(), parts);
      if (!result.ok) return app.fail(result.payload.error || { message: "the server refused the file" });
      app.show(result.payload, { again });
      note.textContent = sentNote(parts);
    }
    async function post(options, parts, format) {
      const response = await fetch("/api/file", { method: "POST", headers: { "Content-Type": "application/octet-stream" },
        body: body(format ? { ...options, format } : options, parts) });
      try {
        return { ok: response.ok, payload: JSON.parse(await response.text()) };
      } catch {
        return { ok: false, payload: { error: { message: `the server answered ${response.status} without JSON` } } };
      }
    }
    const input = document.getElementById("drop-input");
    document.getElementById("drop-button").addEventListener("click", () => input.click());
    input.addEventListener("change", () => { if (input.files.length) count([...input.files]); input.value = ""; });
    document.addEventListener("dragover", (event) => {
      if ([...event.dataTransfer.types].includes("Files")) { event.preventDefault(); document.body.classList.add("dropping"); }
    });
    document.addEventListener("dragleave", () => document.body.classList.remove("dropping"));
    document.addEventListener("drop", async (event) => {
      if (![...event.dataTransfer.types].includes("Files")) return;
      event.preventDefault();
      document.body.classList.remove("dropping");
      count(await dropped(event.dataTransfer));
    });
  }

  return { wire, read, body, sentNote };
})();
