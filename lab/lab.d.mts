// Types for lab/lab.mjs (plain JS so that `node lab/start.mjs` needs no build).
import type { LabInfo } from "../test/lab.js";

export interface StartLabOptions {
  /** The checkout root; the lab lives in <root>/.run/lab/<name>/. */
  root: string;
  /** Subdirectory name: "manual" for start.mjs, "run-<pid>" for test runs. */
  name?: string;
  /** The process that owns the lab; a "run-*" lab whose owner has died is reaped. */
  owner?: number;
}

export function labJsonPath(root: string): string;
export function labBaseDir(root: string): string;
export function startLab(options: StartLabOptions): Promise<LabInfo>;
export function stopLab(runDir: string): number[];
export function stopLabAndWait(runDir: string): Promise<number[]>;
export function reapStaleLabs(root: string): void;
/** n distinct free ports on 127.0.0.1. */
export function freePorts(n: number): Promise<number[]>;
