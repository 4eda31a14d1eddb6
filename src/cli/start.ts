import type { Command } from "./main.js";

/** `npm start`: the embedded default. For now one training evaluated across p_eval. */
export const command: Command = {
  summary: "run the embedded default (what `npm start` does)",
  async run(argv) {
    const { command: train } = await import("./train.js");
    return train.run(["--width", "128", "--depth", "2", "--n", "4000", "--p-eval", "0,0.2,0.4,0.6,0.8,0.9", ...argv]);
  },
};
