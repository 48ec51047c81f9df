// The benchmark parts, in the order they print. `node bench/run.mjs <id>…` runs some.
import { coldStart } from "./cold-start.mjs";
import { configEval } from "./config.mjs";
import { crsSuite } from "./crs.mjs";
import { demoLab, realLab } from "./lab.mjs";
import { logsThroughput } from "./logs.mjs";
import { logsClickHouse } from "./logs-clickhouse.mjs";
import { middlewareOverhead } from "./middleware.mjs";
import { printSpace, runSpace } from "./space/run.mjs";
import { triggerSearch } from "./trigger-search.mjs";
import { watchThroughput } from "./watch.mjs";

export const parts = [
  { id: "cold-start", title: "Cold start (median of 15 runs)", run: coldStart },
  { id: "demo-lab", title: "Demo lab: probes and wall time to verdict per scenario", run: demoLab },
  { id: "lab", title: "Real-server lab: probes and wall time to verdict per scenario", run: realLab },
  {
    id: "trigger",
    title: "Trigger search in JSON bodies (in-process oracle, minimizeRequest)",
    run: triggerSearch,
  },
  {
    id: "crs",
    title:
      "OWASP CRS 3.3.4 regression tests vs the lab's Apache + ModSecurity + CRS (PL1): trigger search per rule family",
    run: crsSuite,
  },
  {
    id: "space",
    title: "Generated scenario space: accuracy and calibration on held-out seeds (real servers)",
    run: async () => printSpace(await runSpace()),
  },
  { id: "config", title: "nginx config: parse + evaluate a generated 5,000-line config", run: configEval },
  {
    id: "logs",
    title: "Logs: classification throughput and memory on a generated mixed log",
    run: logsThroughput,
  },
  {
    id: "logs-clickhouse",
    title: "Logs in ClickHouse: rows/s inside ClickHouse beside the local path, same lines, same counts",
    run: logsClickHouse,
  },
  {
    id: "watch",
    title: "why403 watch: lines/s while scraped, and memory under a steady stream",
    run: watchThroughput,
  },
  {
    id: "middleware",
    title: "Explainable denials: middleware overhead vs the bare app (autocannon)",
    run: middlewareOverhead,
  },
];
