// Checks Trellis' OpenAPI document two ways:
//  1. validates it with an independent OpenAPI 3.1 validator
//     (@seriousme/openapi-schema-validator, the specification's JSON Schemas);
//  2. checks it against what a running host really answers: the document
//     served at GET /openapi.json is the one `trellis openapi` printed, and
//     every operation is called (bodies made from its request schema, ids
//     from rows it created): each answer's status must be documented, and
//     its body must match the documented schema (Ajv, JSON Schema 2020-12).
//
//   node conformance.mjs DOCUMENT.json BASE_URL
// Prints one line per check; exits 1 on the first failure.
// openapi_test.sh also runs it on altered documents (a status removed, a
// schema narrowed) and expects it to fail: the checks can fail.
import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const [documentFile, base] = process.argv.slice(2);
if (!documentFile || !base) {
  console.error("usage: node conformance.mjs DOCUMENT.json BASE_URL");
  process.exit(2);
}
const fail = (message) => {
  console.error(`conformance: FAIL: ${message}`);
  process.exit(1);
};
const doc = JSON.parse(readFileSync(documentFile, "utf8"));

// 1. The document itself.
const validator = new Validator();
const verdict = await validator.validate(structuredClone(doc));
if (!verdict.valid) fail(`not a valid OpenAPI ${validator.version} document: ${JSON.stringify(verdict.errors, null, 2)}`);
console.log(`valid OpenAPI ${validator.version} document: ${Object.keys(doc.paths).length} paths`);

// 2. The served document is the printed one (not for the self-test's
// altered documents, CONFORMANCE_ALTERED=1: they must fail below).
if (process.env.CONFORMANCE_ALTERED !== "1") {
  const served = await fetch(`${base}/openapi.json`);
  if (served.status !== 200) fail(`GET /openapi.json answered ${served.status}`);
  if (!isDeepStrictEqual(await served.json(), doc)) fail("GET /openapi.json differs from `trellis openapi`");
  console.log("GET /openapi.json serves the document `trellis openapi` prints");
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addFormat("int64", { type: "number", validate: Number.isSafeInteger });
ajv.addSchema({ $id: "trellis:document", components: doc.components });
const schemaOf = (schema) => ajv.compile(rebase(schema));
// References inside the document point at "#/components/...": rebase them
// onto the document registered above.
function rebase(value) {
  if (Array.isArray(value)) return value.map(rebase);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value))
      out[k] = k === "$ref" && typeof v === "string" && v.startsWith("#/") ? `trellis:document${v}` : rebase(v);
    return out;
  }
  return value;
}
const resolve = (node) => {
  while (node && node.$ref) node = node.$ref.slice(2).split("/").reduce((n, key) => n[key], doc);
  return node;
};

// A value the schema accepts: required and optional fields with plain samples.
function sample(schema) {
  schema = resolve(schema);
  if (!schema) return {};
  if (schema.enum) return schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  switch (type) {
    case "object": {
      const out = {};
      for (const [name, property] of Object.entries(schema.properties ?? {}))
        if (!resolve(property).readOnly) out[name] = sample(property);
      return out;
    }
    case "array": return [sample(schema.items ?? {})];
    case "integer": return 1;
    case "number": return 1.5;
    case "boolean": return true;
    case "string":
      if (schema.format === "date-time") return "2026-01-02T03:04:05Z";
      return "sample".slice(0, schema.maxLength ?? 6);
    default: return { any: "json" };
  }
}

function documented(operation, status) {
  const responses = operation.responses;
  const entry = responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
  return entry && resolve(entry);
}

let calls = 0;
async function call(method, path, operation, { body, params = {}, expect } = {}) {
  const url = new URL(base + path.replace(/\{([^}]+)\}/g, (_, name) => encodeURIComponent(params[name] ?? "x")));
  for (const param of operation.parameters ?? [])
    if (param.in === "query" && params[param.name] !== undefined) url.searchParams.set(param.name, params[param.name]);
  const init = { method: method.toUpperCase(), headers: {} };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(url, init);
  const text = await response.text();
  const where = `${init.method} ${url.pathname}${url.search} -> ${response.status}`;
  if (expect !== undefined && response.status !== expect) fail(`${where}, expected ${expect}: ${text}`);
  const entry = documented(operation, response.status);
  if (!entry) fail(`${where} is not documented (responses: ${Object.keys(operation.responses).join(", ")})`);
  const type = (response.headers.get("content-type") ?? "").split(";")[0];
  const media = entry.content && (entry.content[type] ?? entry.content["*/*"]);
  if (entry.content && text && !media) fail(`${where}: Content-Type ${type} is not documented`);
  let value;
  if (media && text) {
    try {
      value = JSON.parse(text);
    } catch {
      fail(`${where}: body is not JSON: ${text}`);
    }
    const check = schemaOf(media.schema ?? {});
    if (!check(value)) fail(`${where}: body ${text} does not match its schema: ${ajv.errorsText(check.errors)}`);
  }
  calls += 1;
  console.log(`${where}: documented${media ? ", body matches its schema" : ""}`);
  return { status: response.status, value };
}

// Collections first (their POST makes the ids the item operations use),
// then every other operation, deletes last.
const operations = [];
for (const [path, item] of Object.entries(doc.paths))
  for (const [method, operation] of Object.entries(item)) operations.push({ path, method, operation });
const order = (o) => (o.method === "post" ? 0 : o.method === "delete" ? 2 : 1);
operations.sort((a, b) => order(a) - order(b));

const created = {}; // collection path -> the primary key of a row it created
let failureChecks = 0; // the 400/422/404 probes below: none run means the document lost them
const idOf = (path) => {
  for (const [collection, id] of Object.entries(created)) if (path.startsWith(`${collection}/`)) return id;
  return undefined;
};
for (const { path, method, operation } of operations) {
  const params = {};
  for (const param of operation.parameters ?? [])
    if (param.in === "path") params[param.name] = idOf(path) ?? sample(param.schema);
  const requestSchema = operation.requestBody?.content?.["application/json"]?.schema;
  const body = requestSchema ? sample(requestSchema) : undefined;
  const answer = await call(method, path, operation, { body, params });
  if (method === "post" && answer.status === 201 && answer.value) {
    const key = Object.entries(resolve(requestSchema).properties ?? {}).find(([, p]) => resolve(p).readOnly);
    if (key) created[path] = answer.value[key[0]];
  }
  // The documented failures of a body: not JSON (400) and a wrong field (422).
  if (requestSchema && operation.responses["422"]) {
    failureChecks += 1;
    await call(method, path, operation, { body: "{not json", params, expect: 400 });
    await call(method, path, operation, { body: { no_such_field: 1 }, params, expect: 422 });
  }
  // An id no row has: 404, documented.
  if (operation.responses["404"] && path.includes("{")) {
    failureChecks += 1;
    await call(method, path, operation, {
      body,
      params: Object.fromEntries(Object.keys(params).map((name) => [name, 987654321])),
      expect: 404,
    });
  }
}
if (Object.keys(created).length === 0) fail("no collection created a row: is a resource in the configuration?");
// A resource's create, replace and patch document 422, its item operations 404.
if (failureChecks < 7) fail(`only ${failureChecks} failure probes ran: the document no longer lists a resource's 404 and 422 answers`)
console.log(`conformance: OK (${calls} answers checked against the document)`);
