// Validates Kubernetes manifests offline with kubernetes-models (types and required fields
// from the API's OpenAPI schemas) and prints them as JSON for tests/test_manifests.py.
// Usage: node validate.js FILE...; prints {"docs": [{file, index, object}],
// "errors": [{file, index, kind, message}]}; exit 0 even with errors (the caller reports).
"use strict";
const fs = require("fs");
const yaml = require("js-yaml");

// apiVersion/kind -> the model's module (only the kinds saker ships).
const models = {
  "v1/Namespace": "kubernetes-models/v1/Namespace",
  "v1/ServiceAccount": "kubernetes-models/v1/ServiceAccount",
  "v1/ConfigMap": "kubernetes-models/v1/ConfigMap",
  "apps/v1/DaemonSet": "kubernetes-models/apps/v1/DaemonSet",
};

const out = { docs: [], errors: [] };
for (const file of process.argv.slice(2)) {
  let docs;
  try {
    docs = yaml.loadAll(fs.readFileSync(file, "utf8"));
  } catch (e) {
    out.errors.push({ file, index: -1, kind: null, message: "YAML: " + e.message });
    continue;
  }
  docs.forEach((doc, index) => {
    if (doc === null || doc === undefined) return;
    const key = doc.apiVersion + "/" + doc.kind;
    out.docs.push({ file, index, object: doc });
    const mod = models[key];
    if (!mod) {
      out.errors.push({ file, index, kind: key, message: "no model for " + key });
      return;
    }
    const Model = require(mod)[doc.kind];
    try {
      new Model(doc).validate();
    } catch (e) {
      const details = e.errors ? " " + JSON.stringify(e.errors) : "";
      out.errors.push({ file, index, kind: key, message: e.message + details });
    }
  });
}
process.stdout.write(JSON.stringify(out));
