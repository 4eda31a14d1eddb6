/**
 * The figure of docs/datasets.md: a few MNIST training images (first column) and samples of the
 * mnist-deformed stream made from them, at the default and at the weak deformation strength
 * (configs/deformed.yaml, configs/deformed-weak.yaml). Same generator as training
 * (src/data/deform.ts), job seed 0, sample ids base + k·50,000 (all deformations of one base image).
 *
 *   node dist/scripts/deformed-figure.js docs/datasets/deformed-digits.png
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { DEFAULT_DEFORMATION, Deformer, type DeformationParams } from "../src/data/deform.js";
import { loadMnist, permutationSeed, splitData } from "../src/data/mnist.js";
import { FONT_STACK, svgToPng } from "../src/report/render.js";

const out = process.argv[2] ?? "docs/datasets/deformed-digits.png";
const WEAK: DeformationParams = { sigma: 4, alpha: 17, rotation: 3.75, scale: 0.0375, shear: 0.05, translation: 0.5 };
const SEED = 0;
const BASE = 50000;
const PER_STRENGTH = 5;
const DIGITS = 6;

const data = loadMnist();
const rows = splitData(permutationSeed("per-seed", 0, SEED), BASE, 10000).train;
const base = new Uint8Array(BASE * 784);
for (let j = 0; j < BASE; j++) for (let k = 0; k < 784; k++) base[j * 784 + k] = Math.round(data.train.x[rows[j] * 784 + k] * 255);

// One base image of each of the first DIGITS classes.
const picks: number[] = [];
for (let j = 0; picks.length < DIGITS; j++) if (data.train.y[rows[j]] === picks.length) picks.push(j);

const px = 3, gap = 6, colGap = 18, side = 28 * px;
const columns = 1 + 2 * PER_STRENGTH;
const left = 10, top = 34;
const width = left * 2 + columns * side + (columns - 1) * gap + 2 * colGap;
const height = top + DIGITS * (side + gap) + 4;
const colX = (c: number): number => left + c * (side + gap) + (c >= 1 ? colGap : 0) + (c >= 1 + PER_STRENGTH ? colGap : 0);
let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="100%" height="100%" fill="#fff"/>`;
const label = (x: number, text: string): string => `<text x="${x}" y="20" font-family="${FONT_STACK}" font-size="13" fill="#222">${text}</text>`;
svg += label(colX(0), "MNIST") + label(colX(1), `default: σ 4, α 34, ±7.5°, ±7.5 %, shear ±0.1, ±1 px`) + label(colX(1 + PER_STRENGTH), "weak: σ 4, α 17, ±3.75°, ±3.75 %, ±0.05, ±0.5 px");
const image = (bytes: Uint8Array, at: number, x: number, y: number): string => {
  let s = "";
  for (let r = 0; r < 28; r++)
    for (let c = 0; c < 28; c++) {
      const v = bytes[at + r * 28 + c];
      if (v > 0) s += `<rect x="${x + c * px}" y="${y + r * px}" width="${px}" height="${px}" fill="rgb(${255 - v},${255 - v},${255 - v})"/>`;
    }
  return s + `<rect x="${x - 0.5}" y="${y - 0.5}" width="${side + 1}" height="${side + 1}" fill="none" stroke="#bbb"/>`;
};
const strengths = [DEFAULT_DEFORMATION, WEAK].map((p) => new Deformer(SEED, p));
picks.forEach((j, row) => {
  const y = top + row * (side + gap);
  svg += image(base, j * 784, colX(0), y);
  strengths.forEach((d, s) => {
    const ids = Int32Array.from({ length: PER_STRENGTH }, (_, k) => j + (k + 1) * BASE);
    const bytes = new Uint8Array(ids.length * 784);
    d.deform(ids, base, bytes);
    for (let k = 0; k < PER_STRENGTH; k++) svg += image(bytes, k * 784, colX(1 + s * PER_STRENGTH + k), y);
  });
});
svg += "</svg>";
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, svgToPng(svg, 1));
console.log(`wrote ${out} (${width}×${height})`);
