import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MentiaError } from "../src/errors.js";
import { encodeIdx, parseIdx, readIdxFile } from "../src/data/idx.js";
import { loadIdxPair } from "../src/data/mnist.js";

const dir = mkdtempSync(join(tmpdir(), "mentia-idx-"));

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

function images(n: number): Uint8Array {
  const data = new Uint8Array(n * 784);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 256;
  return encodeIdx([n, 28, 28], data);
}

test("valid IDX round-trips", () => {
  const data = Uint8Array.from([1, 2, 3, 4, 5, 6]);
  const parsed = readIdxFile(write("ok.idx", encodeIdx([2, 3], data)));
  assert.deepEqual(parsed.dims, [2, 3]);
  assert.deepEqual([...parsed.data], [1, 2, 3, 4, 5, 6]);
});

test("each corruption is rejected with a message naming the file and the problem", () => {
  const good = encodeIdx([3, 2], Uint8Array.from([1, 2, 3, 4, 5, 6]));
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ["truncated.idx", good.subarray(0, good.length - 2), /truncated.*need exactly/],
    ["trailing.idx", Uint8Array.from([...good, 9]), /trailing bytes/],
    ["magic.idx", Uint8Array.from([1, 0, ...good.subarray(2)]), /wrong magic number/],
    ["type.idx", Uint8Array.from([0, 0, 0x0d, ...good.subarray(3)]), /unsupported IDX data type 0x0d/],
    ["short.idx", Uint8Array.from([0, 0]), /shorter than the 4-byte magic/],
    ["header.idx", good.subarray(0, 7), /truncated IDX header/],
  ];
  for (const [name, bytes, pattern] of cases) {
    const path = write(name, bytes);
    assert.throws(() => readIdxFile(path), (err: unknown) => {
      assert.ok(err instanceof MentiaError, `${name}: expected MentiaError`);
      assert.match(err.message, pattern);
      assert.ok(err.message.includes(path), `${name}: message names the file`);
      return true;
    });
  }
});

test("images and labels counts that disagree are rejected", () => {
  const img = write("img3", images(3));
  const lab = write("lab2", encodeIdx([2], Uint8Array.from([1, 2])));
  assert.throws(() => loadIdxPair(img, lab), /holds 3 images but .* holds 2 labels/);
});

test("labels outside 0-9 and wrong image shapes are rejected", () => {
  const img = write("img2", images(2));
  assert.throws(() => loadIdxPair(img, write("lab-bad", encodeIdx([2], Uint8Array.from([1, 12])))), /label 12 at index 1/);
  assert.throws(() => loadIdxPair(write("img-shape", encodeIdx([2, 10, 10], new Uint8Array(200))), write("lab-ok", encodeIdx([2], Uint8Array.from([1, 2])))), /N×28×28/);
});

test("a checksum mismatch is rejected", () => {
  const img = write("img1", images(1));
  const lab = write("lab1", encodeIdx([1], Uint8Array.from([4])));
  assert.throws(() => loadIdxPair(img, lab, { images: "0".repeat(32), labels: "0".repeat(32) }), /checksum mismatch/);
  const ok = loadIdxPair(img, lab);
  assert.equal(ok.data.n, 1);
  assert.equal(ok.data.x.length, 784);
  assert.ok(Math.abs(ok.data.x[1] - 7 / 255) < 1e-7);
});

test("parseIdx rejects a zero-sized dimension", () => {
  assert.throws(() => parseIdx(encodeIdx([0], new Uint8Array(0)), "zero"), /dimension 0 has size 0/);
});
