// The benchmark parts, in the order they print.
import { coldStart } from "./cold-start.mjs";

export const parts = [{ id: "cold-start", title: "Cold start (median of 15 runs)", run: coldStart }];
