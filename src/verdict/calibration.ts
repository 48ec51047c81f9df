// The map from the engine's raw confidence (a softmax over summed evidence weights) to
// how often such a verdict was right on the generated scenario space (data/calibration.json,
// fit by bench/space/run.mjs --fit on seeds disjoint from the ones it is tested on).
import { z } from "zod";
import calibrationJson from "../../data/calibration.json" with { type: "json" };

const calibrationSchema = z.object({
  method: z.literal("isotonic"),
  cases: z.number().int().nonnegative(),
  /** Monotone [raw, calibrated] knots; between two knots the map is linear. */
  knots: z.array(z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)])),
});

const KNOTS = calibrationSchema.parse(calibrationJson).knots;

/** The bench fits on raw confidences: WHY403_UNCALIBRATED=1 turns the map off. */
const DISABLED = typeof process !== "undefined" && process.env.WHY403_UNCALIBRATED === "1";

/** Calibrated confidence for a raw one; the identity when no map is fitted. */
export function calibrate(raw: number): number {
  return DISABLED ? raw : interpolateKnots(KNOTS, raw);
}

/**
 * A knot map at `raw`: linear between knots, flat beyond the ends, the identity for no
 * knots. The bench applies freshly fitted maps with this same function.
 */
export function interpolateKnots(knots: ReadonlyArray<readonly [number, number]>, raw: number): number {
  if (knots.length === 0) return raw;
  const first = knots[0]!;
  const last = knots[knots.length - 1]!;
  if (raw <= first[0]) return first[1];
  if (raw >= last[0]) return last[1];
  for (let i = 1; i < knots.length; i++) {
    const [x1, y1] = knots[i]!;
    const [x0, y0] = knots[i - 1]!;
    if (raw <= x1) return x1 === x0 ? y1 : y0 + ((raw - x0) / (x1 - x0)) * (y1 - y0);
  }
  return last[1];
}
