import { defineConfig } from "vitest/config";

// Two projects: `unit` (src/**: pure code, no servers, the edit–test loop of
// `npm test`) and `e2e` (test/**: the built CLI against the real-server lab,
// which the global setup starts once per run).
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
    setupFiles: ["test/count-property-runs.ts", "test/turn-event-loop.ts"],
    projects: [
      { extends: true, test: { name: "unit", include: ["src/**/*.test.ts"] } },
      {
        extends: true,
        test: { name: "e2e", include: ["test/**/*.test.ts"], globalSetup: ["test/global-setup.ts"] },
      },
    ],
  },
});
