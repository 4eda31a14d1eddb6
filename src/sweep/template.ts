/**
 * The commented example config that `mentia init` writes (and configs/example.yaml holds).
 * A test checks that it parses and that configs/example.yaml is this text.
 */
export const EXAMPLE_CONFIG = `# mentia sweep config: one study = widths × depths × pTrain × sizes × seeds trainings,
# each network evaluated at every pEval. Run it with
#   mentia run this.yaml --out runs/study --dry-run    # job count and estimated time
#   mentia run this.yaml --out runs/study              # run (Ctrl-C stops; rerun resumes)
#   mentia status runs/study                           # progress and failures
#   mentia export runs/study --format csv              # tidy table, one row per job × pEval
# Every grid is a list, a single number, or a range {from, to, count, log}
# (log: true spaces the values logarithmically; integer grids are rounded).

# Dataset (docs/datasets.md): mnist; fashion-mnist (Debian's package dataset-fashion-mnist);
# or mnist-deformed (the job's MNIST images, then a seeded stream of elastic + affine
# deformations of them: sizes up to 10^8; parameters in 'deformation', e.g.
# deformation: {sigma: 4, alpha: 34, rotation: 7.5, scale: 0.075, shear: 0.1, translation: 1}).
dataset: mnist

# Network: 784 inputs → depth hidden layers of width ReLU units → 10 logits.
widths: [128]
depths: [2]

# Dropout rate at training (inverted dropout on hidden units), each in [0, 1).
# Amentia (the network cannot learn) needs rates close to 1 at width 128.
pTrain: [0, 0.25, 0.5, 0.75, 0.9, 0.95]

# Neuron removal rate at evaluation, each in [0, 1). Evaluation is cheap next to training:
# every trained network is evaluated at all of these.
pEval: {from: 0, to: 0.9, count: 10}

# Training-set sizes N: nested subsets (the first N of one seeded permutation of the
# 60,000 training images; at most 60,000 − validation, mnist-deformed: 10^8). Use ≥ 8 log-spaced sizes to see the scaling L(N) ~ N^-α
# and a crossover size N*.
sizes: {from: 250, to: 16000, count: 8, log: true}

# One training per seed; the seed fixes init, shuffles and every dropout mask.
# How big must a study be to find a phase boundary? A point is labelled only when the 95 %
# CI of its exponent α (α̂ ± t·σ_α, Student t over seeds) clears the thresholds: with 2 seeds
# t = 12.7, with 3 seeds 4.30, with 4 seeds 3.18, with 8 seeds 2.36; σ_α shrinks as the
# sizes spread over a wider range of ln N. With the 2 seeds below expect most points
# "uncertain" ('mentia analyze' then says which of these levers would decide them). The
# default study (configs/default.yaml: 8 pTrain × 11 pEval, 8 sizes 250…16,000, 4 seeds, 256
# trainings; 'npm start', 6 min 12 s on a 2-core machine) finds the eumentia–dementia
# boundary with errors: its phase diagram is in the README.
seeds: [0, 1]

# How long to train at each N (docs/protocol.md compares the policies on real MNIST):
# early-stop validates every valEvery steps on \`validation\` held-out training images
# (no removal), stops after \`patience\` validations without improvement (or at maxSteps)
# and evaluates the weights of the best validation step. Others: epochs (exactly \`epochs\`
# passes), steps (exactly \`steps\` steps), epochs-min-steps (max of the two).
policy: early-stop
patience: 10
valEvery: half-epoch   # half an epoch, at least 10 steps (or: epoch = 1 epoch, ≥ 50; or a step count)
maxSteps: 30000
validation: 10000      # held out of the 60,000 images: the largest N is 50,000
epochs: 20
steps: 1000
batch: 64
optimizer: adam        # adam | sgd (momentum 0.9)
lr: 0.001

# Evaluation: sample = fresh removal mask per test sample (dropout left active at
# evaluation); mask = one fixed set of removed neurons per network (structured pruning);
# neuron-magnitude = the pEval fraction of least important neurons of each hidden layer;
# weight-random = each weight removed with probability pEval; weight-magnitude = the pEval
# fraction of smallest |w| of each layer (docs/pruning.md). A list, e.g.
# [sample, mask, neuron-magnitude, weight-random, weight-magnitude], evaluates every trained
# network in every mode (trained once).
# masks = independent draws (sample, weight-random) or fixed masks (mask) averaged per pEval;
# the magnitude modes are deterministic (one draw).
evalMode: sample
masks: 4
rescale: true          # random modes: scale survivors by 1/(1 - pEval); false = plain removal
# magnitudeRescale: false  # magnitude modes: scale survivors by 1/(1 - pEval) too
# magnitudeGlobal: false   # weight-magnitude: one |w| threshold across layers

# Which images each seed trains on: per-seed = each seed its own permutation (sizes nested
# within a seed: the first N of it); shared = one permutation (subsetSeed) for every seed.
dataDraw: per-seed
subsetSeed: 0

# Trajectories (off when absent): record the test loss under removal along every training,
# so that 'mentia analyze --slice steps=T | epochs=E | early-stop' reads L(N) at a fixed
# number of steps, a fixed number of epochs or at early stopping from this one sweep.
# points checkpoints log-spaced in steps from the first validation point to horizon (default:
# the step budget, maxSteps for early stopping), plus the best-validation and the last step;
# each evaluates the test set at these pEval with masks draws. extendFactor / extendSteps train
# on after early stopping (to 3× its step, or to 8000 steps) for the trajectory only: the job's
# own results still use the best-validation weights. Cost: docs/analysis.md, "Slices".
# trajectory:
#   points: 14
#   pEval: [0, 0.5, 0.7]
#   masks: 1
#   horizon: 8000
#   extendFactor: 3
#   extendSteps: 8000
`;
