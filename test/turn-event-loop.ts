// Lets the test worker's event loop turn after every test. Tests that run the CLI
// synchronously (spawnSync) never return to the loop, so vitest's replies to the worker
// wait unread; after 60 s of such tests in a row the worker reports "Timeout calling
// onTaskUpdate", which fails the run although every test passed (seen on a loaded
// machine in diagnose-agrees, 131 tests, 178 s).
import { afterEach } from "vitest";

afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)));
