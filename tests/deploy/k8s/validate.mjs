// Validates rendered Kubernetes manifests offline, three ways:
//  1. schema: every object through its kubernetes-models class's validate() (types, required
//     fields, formats, enums of the Kubernetes OpenAPI schema);
//  2. strict fields: every object as a TypeScript object literal typed with the model's interface,
//     compiled with tsc, whose excess-property check rejects unknown or misspelled fields (the
//     OpenAPI schemas allow them, so step 1 alone would accept `readinesProbe:`);
//  3. shoal's own invariants: probes on /readyz and /healthz at the admin port of the mounted
//     config, grace period above preStop + timeouts.drain, selectors that select, non-root...
//
// Usage (from the npm install directory holding node_modules; tests/deploy/check-deploy.sh does
// this):  node validate.mjs --dockerfile deploy/Dockerfile RENDERED.yaml [EXTRA.yaml ...]
// Prints one line per check and exits 1 if any failed.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let dockerfile = null;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--dockerfile") dockerfile = args[++i];
  else files.push(args[i]);
}
if (files.length === 0) {
  console.error("usage: node validate.mjs [--dockerfile FILE] MANIFEST.yaml...");
  process.exit(2);
}

let failures = 0;
let passes = 0;
function check(ok, what, detail = "") {
  if (ok) {
    passes++;
    console.log(`ok    ${what}`);
  } else {
    failures++;
    console.log(`FAIL  ${what}${detail ? `: ${detail}` : ""}`);
  }
}

// --- load -----------------------------------------------------------------------------------
const objects = [];
for (const file of files) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  for (const doc of docs) {
    if (doc.errors.length) {
      check(false, `${file}: YAML parses`, doc.errors.map((e) => e.message).join("; "));
      continue;
    }
    const obj = doc.toJS();
    if (obj == null) continue;
    objects.push({ file, obj });
  }
}
check(objects.length > 0, `loaded ${objects.length} objects from ${files.join(", ")}`);

// --- 1. schema ------------------------------------------------------------------------------
// apiVersion -> [runtime module, module prefix for the per-kind type file]
function modelModule(apiVersion) {
  if (apiVersion === "monitoring.coreos.com/v1") {
    return "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
  }
  return `kubernetes-models/${apiVersion}`;  // "v1" -> kubernetes-models/v1, "apps/v1" -> .../apps/v1
}
const typed = [];
for (const { file, obj } of objects) {
  const name = `${obj.kind}/${obj.metadata?.name} (${obj.apiVersion}, ${path.basename(file)})`;
  let mod;
  try {
    mod = await import(modelModule(obj.apiVersion));
  } catch (e) {
    check(false, `${name}: known apiVersion`, e.message.split("\n")[0]);
    continue;
  }
  const Model = mod[obj.kind];
  if (typeof Model !== "function") {
    check(false, `${name}: known kind`, `no ${obj.kind} in ${modelModule(obj.apiVersion)}`);
    continue;
  }
  try {
    new Model(obj).validate();
    check(true, `${name}: schema`);
  } catch (e) {
    check(false, `${name}: schema`, e.message);
  }
  typed.push({ name, obj, module: `${modelModule(obj.apiVersion)}/${obj.kind}`, type: `I${obj.kind}` });
}

// --- 2. strict fields (tsc excess-property check) -------------------------------------------
{
  const dir = fs.mkdtempSync(path.join(here, ".strict-"));
  try {
    const lines = [];
    typed.forEach((t, i) => {
      lines.push(`import type { ${t.type} as T${i} } from "${t.module}";`);
    });
    typed.forEach((t, i) => {
      lines.push(`// ${t.name}`);
      lines.push(`export const o${i}: T${i} = ${JSON.stringify(t.obj, null, 2)};`);
    });
    fs.writeFileSync(path.join(dir, "objects.ts"), lines.join("\n") + "\n");
    fs.writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: "esnext",
          moduleResolution: "bundler",
          target: "es2022",
          skipLibCheck: true,
          types: [],
        },
        files: ["objects.ts"],
      }),
    );
    let out = "";
    let ok = true;
    try {
      execFileSync(process.execPath, [path.join(here, "node_modules/typescript/bin/tsc"), "-p", dir], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (e) {
      ok = false;
      out = `${e.stdout || ""}${e.stderr || ""}`.trim();
    }
    check(ok, `every field of ${typed.length} objects is known to the Kubernetes API types (tsc)`, out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// --- 3. shoal invariants --------------------------------------------------------------------
const byKind = (kind) => objects.map((o) => o.obj).filter((o) => o.kind === kind);
const matches = (selector, labels) =>
  !!selector && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
function durationSeconds(text) {
  const units = { ms: 0.001, s: 1, m: 60, h: 3600 };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let m;
  let consumed = "";
  while ((m = re.exec(text)) !== null) {
    total += parseFloat(m[1]) * units[m[2]];
    consumed += m[0];
  }
  return consumed === text ? total : NaN;
}
const portOf = (address) => Number(String(address).split(":").pop());
function cpuCores(q) {
  q = String(q);
  return q.endsWith("m") ? Number(q.slice(0, -1)) / 1000 : Number(q);
}

const deployments = byKind("Deployment");
check(deployments.length === 1, "exactly one Deployment", `found ${deployments.length}`);
const dep = deployments[0];
if (dep) {
  const pod = dep.spec.template;
  const spec = pod.spec;
  const podLabels = pod.metadata?.labels ?? {};
  const c = spec.containers.find((x) => x.name === "shoal") ?? spec.containers[0];
  check(matches(dep.spec.selector.matchLabels, podLabels), "Deployment selector matches its pod labels");

  // The config the pod runs: --config=PATH inside a volume mounted from a ConfigMap.
  const configArg = (c.args ?? []).concat(c.command ?? []).find((a) => a.startsWith("--config="));
  const configPath = configArg?.slice("--config=".length);
  check(!!configPath, "container passes --config=", JSON.stringify(c.args));
  const mount = (c.volumeMounts ?? []).find((m) => configPath?.startsWith(m.mountPath + "/"));
  const volume = mount && (spec.volumes ?? []).find((v) => v.name === mount.name);
  const cm = volume?.configMap && byKind("ConfigMap").find((x) => x.metadata.name === volume.configMap.name);
  const key = configPath && mount ? configPath.slice(mount.mountPath.length + 1) : null;
  check(!!cm && cm.data?.[key] !== undefined, `${configPath} comes from a rendered ConfigMap key`,
    `mount=${mount?.name} configMap=${volume?.configMap?.name} key=${key}`);
  const shoal = cm ? YAML.parse(cm.data[key] ?? "") ?? {} : {};

  const adminPort = portOf(shoal.admin?.address ?? "127.0.0.1:9100");
  const adminHost = String(shoal.admin?.address ?? "127.0.0.1:9100").replace(/:\d+$/, "");
  check(!["127.0.0.1", "localhost", "[::1]"].includes(adminHost),
    "admin.address listens beyond loopback (kubelet probes and Prometheus reach it)", shoal.admin?.address);
  const ports = Object.fromEntries((c.ports ?? []).map((p) => [p.name, p.containerPort]));
  check(ports.admin === adminPort, `container port "admin" = admin.address port ${adminPort}`, `${ports.admin}`);
  for (const l of shoal.listeners ?? [{ name: "echo", address: "0.0.0.0:7000" }]) {
    check(Object.values(ports).includes(portOf(l.address)), `listener ${l.name} port ${portOf(l.address)} is a container port`);
  }

  const probePort = (p) => (typeof p?.httpGet?.port === "string" ? ports[p.httpGet.port] : p?.httpGet?.port);
  check(c.readinessProbe?.httpGet?.path === "/readyz" && probePort(c.readinessProbe) === adminPort,
    "readinessProbe: GET /readyz on the admin port", JSON.stringify(c.readinessProbe?.httpGet));
  check(c.livenessProbe?.httpGet?.path === "/healthz" && probePort(c.livenessProbe) === adminPort,
    "livenessProbe: GET /healthz on the admin port", JSON.stringify(c.livenessProbe?.httpGet));

  const ann = pod.metadata?.annotations ?? {};
  const monitors = byKind("ServiceMonitor");
  check((ann["prometheus.io/scrape"] === "true" && Number(ann["prometheus.io/port"]) === adminPort &&
         (ann["prometheus.io/path"] ?? "/metrics") === "/metrics") || monitors.length > 0,
    "scraped: prometheus.io/* annotations name the admin port and /metrics (or a ServiceMonitor)");

  const drain = durationSeconds(String(shoal.timeouts?.drain ?? "10s"));
  const sleep = c.lifecycle?.preStop?.exec?.command;
  const preStop = sleep && sleep[0] === "sleep" ? Number(sleep[1]) : (c.lifecycle?.preStop?.sleep?.seconds ?? 0);
  check(preStop > 0, "preStop pause lets endpoints drop the pod before SIGTERM", JSON.stringify(c.lifecycle));
  const grace = spec.terminationGracePeriodSeconds ?? 30;
  check(grace > preStop + drain,
    `terminationGracePeriodSeconds ${grace} > preStop ${preStop}s + timeouts.drain ${drain}s`);

  const psc = spec.securityContext ?? {};
  const csc = c.securityContext ?? {};
  check((psc.runAsNonRoot || csc.runAsNonRoot) === true, "runAsNonRoot");
  check(csc.readOnlyRootFilesystem === true, "readOnlyRootFilesystem");
  check(csc.allowPrivilegeEscalation === false, "allowPrivilegeEscalation: false");
  check((csc.capabilities?.drop ?? []).includes("ALL"), "capabilities drop ALL");
  if (dockerfile) {
    const user = fs.readFileSync(dockerfile, "utf8").match(/^USER\s+(\d+)(?::(\d+))?/m);
    const uid = csc.runAsUser ?? psc.runAsUser;
    check(!!user && (uid === undefined || uid === Number(user[1])),
      `runAsUser ${uid} is the image's USER ${user?.[1]} (${dockerfile})`);
  }
  const r = c.resources ?? {};
  check(!!(r.requests?.cpu && r.requests?.memory && r.limits?.cpu && r.limits?.memory),
    "resources: cpu and memory requests and limits", JSON.stringify(r));
  if (r.limits?.cpu) {
    check(shoal.workers === cpuCores(r.limits.cpu),
      `config workers (${shoal.workers}) = CPU limit (${r.limits.cpu}); 0 would mean the node's CPUs`);
  }

  for (const svc of byKind("Service")) {
    check(matches(svc.spec.selector, podLabels), `Service/${svc.metadata.name} selects the pods`);
    for (const p of svc.spec.ports) {
      const target = p.targetPort ?? p.port;
      check(typeof target === "string" ? target in ports : Object.values(ports).includes(target),
        `Service/${svc.metadata.name} port ${p.name} targets a container port (${target})`);
    }
  }
  for (const pdb of byKind("PodDisruptionBudget")) {
    check(matches(pdb.spec.selector.matchLabels, podLabels), `PodDisruptionBudget/${pdb.metadata.name} selects the pods`);
    const replicas = dep.spec.replicas ?? 1;
    check(pdb.spec.maxUnavailable !== undefined ? replicas > pdb.spec.maxUnavailable : replicas > pdb.spec.minAvailable,
      `PodDisruptionBudget leaves room to evict with ${replicas} replicas`);
  }
  for (const hpa of byKind("HorizontalPodAutoscaler")) {
    const t = hpa.spec.scaleTargetRef;
    check(t.kind === "Deployment" && t.name === dep.metadata.name,
      `HorizontalPodAutoscaler/${hpa.metadata.name} scales Deployment/${dep.metadata.name}`);
    const usesCpu = (hpa.spec.metrics ?? []).some((m) => m.resource?.name === "cpu");
    check(!usesCpu || !!r.requests?.cpu, "CPU-based HPA has a CPU request to measure against");
    check((hpa.spec.minReplicas ?? 1) >= 2, "HPA keeps at least 2 replicas (PDB can evict one)");
  }
  const services = byKind("Service");
  for (const sm of monitors) {
    const svc = services.find((s) => matches(sm.spec.selector.matchLabels, s.metadata.labels));
    check(!!svc, `ServiceMonitor/${sm.metadata.name} selects a Service`);
    for (const e of sm.spec.endpoints) {
      check(!!svc && svc.spec.ports.some((p) => p.name === e.port) && (e.path ?? "/metrics") === "/metrics",
        `ServiceMonitor/${sm.metadata.name} scrapes ${e.port}${e.path ?? ""}`);
    }
  }
}

console.log(`k8s: ${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
