// Checks every query in queries/ with Microsoft's Kusto language service
// (parser and semantic analyzer) against the schemas of the two tables Key
// Vault writes to, in every mix a workspace can have.
//
//   node .ci/kql/check.js QUERIES_DIR PRELUDE
//
// PRELUDE is the text kvaudit puts before a query (the slice's `let`
// statements); the Rust test tests/it/kql_check.rs passes the client's own.
// Exit 0 when every query is clean in every workspace; otherwise each
// diagnostic is printed with its query, workspace and line.
"use strict";
const fs = require("fs");
const path = require("path");
require("@kusto/language-service-next/bridge.min.js");
require("@kusto/language-service-next/Kusto.Language.Bridge.min.js");
const K = Kusto.Language;
const S = K.Symbols;

// Column lists: shared/reference/log-formats.md §2.2 and §2.3 (Microsoft's
// table reference for AZKVAuditLogs; the Key Vault columns of AzureDiagnostics).
const AZKV = `(TimeGenerated:datetime, OperationName:string, OperationVersion:string,
  ResultType:string, ResultSignature:string, ResultDescription:string, CorrelationId:string,
  CallerIpAddress:string, ClientInfo:string, Id:string, RequestUri:string, Algorithm:string,
  Tlsversion:string, AppliedAssignmentId:string, TrustedService:string,
  AddressAuthorizationType:string, SubnetId:string, HsmPoolResourceId:string,
  SourceSystem:string, Type:string, TenantId:string, _ResourceId:string, _SubscriptionId:string,
  HttpStatusCode:int, DurationMs:int, SoftDeleteRetentionInDays:int,
  IsAccessPolicyMatch:bool, IsRbacAuthorized:bool, IsAddressAuthorized:bool,
  EnabledForDeployment:bool, EnabledForDiskEncryption:bool, EnabledForTemplateDeployment:bool,
  EnableSoftDelete:bool, EnableRbacAuthorization:bool, EnablePurgeProtection:bool,
  Identity:dynamic, Properties:dynamic, Nsp:dynamic, KeyProperties:dynamic,
  SecretProperties:dynamic, CertificateProperties:dynamic, CertificatePolicyProperties:dynamic,
  CertificateIssuerProperties:dynamic, CertificateRequestProperties:dynamic,
  StorageAccountProperties:dynamic, StorageSasDefinitionProperties:dynamic,
  VaultProperties:dynamic, Sku:dynamic, NetworkAcls:dynamic, _BilledSize:real, _IsBillable:string)`;

// Columns every AzureDiagnostics table has, whatever wrote to it.
const DIAGNOSTICS_COMMON = `TenantId:string, TimeGenerated:datetime, ResourceId:string,
  _ResourceId:string, Category:string, ResourceGroup:string, SubscriptionId:string,
  ResourceProvider:string, Resource:string, ResourceType:string, OperationName:string,
  OperationVersion:string, ResultType:string, ResultSignature:string, ResultDescription:string,
  CorrelationId:string, CallerIPAddress:string, DurationMs:long, Level:string,
  SourceSystem:string, Type:string, AdditionalFields:dynamic`;

// Columns that exist only once a Key Vault record produced them.
const DIAGNOSTICS_KEY_VAULT = `id_s:string, requestUri_s:string, clientInfo_s:string,
  httpStatusCode_d:real, isAccessPolicyMatch_b:bool, isRbacAuthorized_b:bool,
  appliedAssignmentId_g:guid, tlsVersion_s:string, trustedService_s:string, subnetId_s:string,
  algorithm_s:string, identity_claim_oid_g:guid, identity_claim_appid_g:guid,
  identity_claim_upn_s:string, identity_claim_idtyp_s:string, identity_claim_appidacr_s:string,
  identity_claim_xms_mirid_s:string, identity_claim_scp_s:string, identity_claim_unique_name_s:string,
  identity_claim_tid_g:guid,
  identity_claim_http_schemas_microsoft_com_identity_claims_objectidentifier_g:guid,
  identity_claim_http_schemas_xmlsoap_org_ws_2005_05_identity_claims_upn_s:string,
  identity_claim_http_schemas_xmlsoap_org_ws_2005_05_identity_claims_name_s:string,
  identity_claim_http_schemas_microsoft_com_identity_claims_tenantid_g:guid`;

const table = (name, schema) => new S.TableSymbol.$ctor7(name, schema, null);
const azkv = () => table("AZKVAuditLogs", AZKV);
const diagnostics = () =>
  table("AzureDiagnostics", `(${DIAGNOSTICS_COMMON}, ${DIAGNOSTICS_KEY_VAULT})`);
const diagnosticsBare = () => table("AzureDiagnostics", `(${DIAGNOSTICS_COMMON})`);

// Workspaces a query must work in; `missing` tables may only draw the
// warning that a fuzzy union leg refers to nothing (KS205).
const WORKSPACES = [
  { name: "both tables", tables: [azkv, diagnostics], missing: [] },
  { name: "AZKVAuditLogs only", tables: [azkv], missing: ["AzureDiagnostics"] },
  { name: "AzureDiagnostics only", tables: [diagnostics], missing: ["AZKVAuditLogs"] },
  { name: "both, AzureDiagnostics without Key Vault columns", tables: [azkv, diagnosticsBare], missing: [] },
  { name: "AzureDiagnostics only, without Key Vault columns", tables: [diagnosticsBare], missing: ["AZKVAuditLogs"] },
];

function check(text, workspace) {
  const db = new S.DatabaseSymbol.ctor("workspace", workspace.tables.map((t) => t()));
  const globals = K.GlobalState.Default.WithDatabase(db);
  const code = K.KustoCode.ParseAndAnalyze(text, globals);
  const diagnostics = code.GetDiagnostics();
  const problems = [];
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    const expected =
      d.Code === "KS205" && workspace.missing.some((t) => d.Message.includes(`'${t}'`));
    if (!expected) problems.push(d);
  }
  return { problems, columns: resultColumns(code) };
}

function resultColumns(code) {
  const result = code.ResultType;
  const names = [];
  if (result && result.Columns) {
    for (let i = 0; i < result.Columns.Count; i++) {
      const c = result.Columns.getItem(i);
      names.push(`${c.Name}:${c.Type.Name}`);
    }
  }
  return names;
}

function lineOf(text, offset) {
  return text.slice(0, offset).split("\n").length;
}

function main() {
  const [dir, prelude] = process.argv.slice(2);
  if (!dir || prelude === undefined) {
    console.error("usage: node check.js QUERIES_DIR PRELUDE");
    process.exit(2);
  }
  const files = fs.readdirSync(dir).filter((f) => f.endsWith(".kql")).sort();
  if (files.length === 0) {
    console.error(`no .kql files in ${dir}`);
    process.exit(2);
  }
  const preludeLines = prelude.split("\n").length - 1;
  let failures = 0;
  let checks = 0;
  for (const file of files) {
    const query = fs.readFileSync(path.join(dir, file), "utf8");
    const text = prelude + query;
    for (const workspace of WORKSPACES) {
      checks++;
      const { problems, columns } = check(text, workspace);
      if (process.env.KQL_CHECK_VERBOSE) console.log(`${file} [${workspace.name}] -> ${columns.join(", ")}`);
      for (const column of columns) {
        // `union` splits a column whose legs disagree on its type into
        // X_long, X_int, ...: kvaudit would no longer find X.
        if (/_(bool|datetime|dynamic|guid|int|long|real|string|timespan|decimal|unknown)(:|$)/.test(column) || column.endsWith(":unknown")) {
          failures++;
          console.log(`${file}: [${workspace.name}] result column ${column}: the union legs disagree on its type; cast it in every leg`);
        }
      }
      for (const d of problems) {
        failures++;
        const line = lineOf(text, d.Start) - preludeLines;
        console.log(`${file}:${line}: [${workspace.name}] ${d.Severity} ${d.Code}: ${d.Message}`);
      }
    }
  }
  console.log(`${files.length} queries x ${WORKSPACES.length} workspaces: ${checks} checks, ${failures} problems`);
  process.exit(failures === 0 ? 0 : 1);
}

main();
