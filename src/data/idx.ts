import { readFileSync } from "node:fs";
import { MentiaError } from "../errors.js";

/**
 * A strict reader of the IDX format (LeCun's MNIST files): magic number 0x0000 08 NN
 * (type 0x08 = unsigned byte, NN = number of dimensions), NN big-endian uint32 sizes, then
 * exactly prod(sizes) bytes. Anything else is rejected with a MentiaError naming the file.
 */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const TYPE_UNSIGNED_BYTE = 0x08;

export function parseIdx(buf: Uint8Array, name: string): IdxArray {
  if (buf.length < 4) throw new MentiaError(`${name}: not an IDX file: only ${buf.length} bytes, shorter than the 4-byte magic number`);
  if (buf[0] !== 0 || buf[1] !== 0) {
    const magic = Buffer.from(buf.subarray(0, 4)).toString("hex");
    throw new MentiaError(`${name}: not an IDX file: wrong magic number 0x${magic} (expected 0x000008NN)`);
  }
  if (buf[2] !== TYPE_UNSIGNED_BYTE) throw new MentiaError(`${name}: unsupported IDX data type 0x${buf[2].toString(16).padStart(2, "0")} (only unsigned byte, 0x08, is supported)`);
  const ndim = buf[3];
  if (ndim < 1) throw new MentiaError(`${name}: IDX file declares 0 dimensions`);
  const headerLength = 4 + 4 * ndim;
  if (buf.length < headerLength) throw new MentiaError(`${name}: truncated IDX header: ${buf.length} bytes, need ${headerLength} for ${ndim} dimensions`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let d = 0; d < ndim; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    if (size === 0) throw new MentiaError(`${name}: IDX dimension ${d} has size 0`);
    dims.push(size);
    count *= size;
  }
  const expected = headerLength + count;
  if (buf.length !== expected) {
    const what = buf.length < expected ? "truncated" : "has trailing bytes";
    throw new MentiaError(`${name}: IDX file ${what}: ${buf.length} bytes, but dimensions ${dims.join("×")} need exactly ${expected}`);
  }
  return { dims, data: buf.subarray(headerLength) };
}

export function readIdxFile(path: string): IdxArray {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new MentiaError(`${path}: cannot read IDX file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseIdx(buf, path);
}

/** Serialises an unsigned-byte IDX array (used by tests to build valid and corrupt files). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = TYPE_UNSIGNED_BYTE;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
