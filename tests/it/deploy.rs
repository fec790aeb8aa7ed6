//! The deployment examples in deploy/: they parse, their schedules are valid
//! cron, the systemd units use only known keys, and the pieces that must
//! agree with each other (the image's UID, the roles, the command) do.
//! YAML is read with PyYAML when python3 has it (no YAML crate is in the
//! dependency tree); without it those checks say so and pass.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn read(relative: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(relative))
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// A YAML file as JSON, through PyYAML's safe loader; None without PyYAML.
fn yaml(relative: &str) -> Option<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    let output = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml\n\
             doc = yaml.safe_load(open(sys.argv[1]))\n\
             # YAML 1.1 reads a bare `on` key (GitHub's trigger) as true.\n\
             if isinstance(doc, dict) and True in doc: doc['on'] = doc.pop(True)\n\
             json.dump(doc, sys.stdout)",
        ])
        .arg(&path)
        .output();
    match output {
        Ok(o) if o.status.success() => Some(serde_json::from_slice(&o.stdout).unwrap()),
        Ok(o) if String::from_utf8_lossy(&o.stderr).contains("No module named 'yaml'") => {
            eprintln!("deploy test: PyYAML missing, {relative} not parsed");
            None
        }
        Ok(o) => panic!("{relative}: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            eprintln!("deploy test: no python3 ({e}), {relative} not parsed");
            None
        }
    }
}

/// A five-field cron schedule with values in range: `*`, numbers, ranges,
/// lists and steps (no names or macros, which not every scheduler takes).
fn assert_cron(schedule: &str) {
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    assert_eq!(fields.len(), 5, "cron needs 5 fields: {schedule:?}");
    let ranges = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)];
    for (field, (low, high)) in fields.iter().zip(ranges) {
        for item in field.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (item, None),
            };
            if let Some(step) = step {
                let step: u32 = step
                    .parse()
                    .unwrap_or_else(|_| panic!("step in {schedule:?}"));
                assert!(step >= 1 && step <= high, "step {step} in {schedule:?}");
            }
            if range == "*" {
                continue;
            }
            let number = |n: &str| -> u32 {
                let n: u32 = n
                    .parse()
                    .unwrap_or_else(|_| panic!("{n:?} in {schedule:?}"));
                assert!(
                    (low..=high).contains(&n),
                    "{n} out of {low}-{high} in {schedule:?}"
                );
                n
            };
            match range.split_once('-') {
                Some((a, b)) => assert!(number(a) <= number(b), "range {range} in {schedule:?}"),
                None => {
                    number(range);
                }
            }
        }
    }
}

#[test]
fn the_cron_check_rejects_what_cron_would() {
    for bad in [
        "17 3 * *",
        "60 3 * * *",
        "17 24 * * *",
        "0 0 0 * *",
        "5-1 * * * *",
        "*/0 * * * *",
    ] {
        assert!(
            std::panic::catch_unwind(|| assert_cron(bad)).is_err(),
            "{bad}"
        );
    }
    for good in ["17 3 * * *", "*/15 0-6,22 1 1,6 1-5", "0 0 * * 7"] {
        assert_cron(good);
    }
}

#[test]
fn the_cron_entry_is_five_fields_a_user_and_a_command_cron_reads_as_written() {
    let text = read("deploy/cron/kvaudit.cron");
    let entries: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        // Environment lines: NAME=value before any space.
        .filter(|l| !l.split_whitespace().next().unwrap().contains('='))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let fields: Vec<&str> = entries[0].splitn(7, ' ').collect();
    assert_cron(&fields[..5].join(" "));
    assert_eq!(fields[5], "kvaudit", "/etc/cron.d entries name the user");
    let command = fields[6];
    assert!(
        command.starts_with("kvaudit run --config /etc/kvaudit/kvaudit.toml"),
        "{command}"
    );
    // cron turns an unescaped % into a newline.
    assert!(!command.contains('%'), "{command}");
    assert!(text.contains("\nMAILTO="), "failures are mailed");
    // Output only on failure, so a mail means a failure.
    assert!(
        command.contains(">/var/log/kvaudit/last-run.log 2>&1 ||"),
        "{command}"
    );
}

/// A unit file's `[Section]` -> key -> values.
type Unit = BTreeMap<String, BTreeMap<String, Vec<String>>>;

fn unit(relative: &str) -> Unit {
    let mut unit = Unit::new();
    let mut section = String::new();
    for line in read(relative).lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{relative}: not key=value: {line}"));
        assert!(!section.is_empty(), "{relative}: {key} outside a section");
        unit.entry(section.clone())
            .or_default()
            .entry(key.to_owned())
            .or_default()
            .push(value.to_owned());
    }
    unit
}

fn assert_known_keys(relative: &str, unit: &Unit, known: &[(&str, &[&str])]) {
    for (section, keys) in unit {
        let allowed = known
            .iter()
            .find(|(s, _)| s == section)
            .unwrap_or_else(|| panic!("{relative}: unexpected section [{section}]"))
            .1;
        for key in keys.keys() {
            assert!(
                allowed.contains(&key.as_str()),
                "{relative}: unknown key {key} in [{section}]"
            );
        }
    }
}

fn value<'a>(unit: &'a Unit, section: &str, key: &str) -> &'a str {
    unit.get(section)
        .and_then(|s| s.get(key))
        .and_then(|v| v.last())
        .unwrap_or_else(|| panic!("no {key}= in [{section}]"))
}

const UNIT_KEYS: &[&str] = &[
    "Description",
    "Documentation",
    "Wants",
    "Requires",
    "After",
    "Before",
    "OnFailure",
];

#[test]
fn the_systemd_units_use_known_keys_and_harden_the_service() {
    let service = unit("deploy/systemd/kvaudit.service");
    assert_known_keys(
        "kvaudit.service",
        &service,
        &[
            ("Unit", UNIT_KEYS),
            (
                "Service",
                &[
                    "Type",
                    "ExecStart",
                    "DynamicUser",
                    "User",
                    "Group",
                    "StateDirectory",
                    "StateDirectoryMode",
                    "ConfigurationDirectory",
                    "Environment",
                    "EnvironmentFile",
                    "TimeoutStartSec",
                    "Nice",
                    "UMask",
                    "ProtectSystem",
                    "ReadWritePaths",
                    "ProtectHome",
                    "PrivateTmp",
                    "PrivateDevices",
                    "ProtectKernelTunables",
                    "ProtectKernelModules",
                    "ProtectKernelLogs",
                    "ProtectControlGroups",
                    "ProtectClock",
                    "ProtectHostname",
                    "ProtectProc",
                    "NoNewPrivileges",
                    "CapabilityBoundingSet",
                    "RestrictAddressFamilies",
                    "RestrictNamespaces",
                    "RestrictRealtime",
                    "RestrictSUIDSGID",
                    "LockPersonality",
                    "MemoryDenyWriteExecute",
                    "SystemCallArchitectures",
                    "SystemCallFilter",
                    "SystemCallErrorNumber",
                ],
            ),
        ],
    );
    assert_eq!(value(&service, "Service", "Type"), "oneshot");
    assert_eq!(value(&service, "Service", "DynamicUser"), "yes");
    assert_eq!(value(&service, "Service", "StateDirectory"), "kvaudit");
    assert_eq!(value(&service, "Service", "ProtectSystem"), "strict");
    value(&service, "Service", "ReadWritePaths");
    let exec = value(&service, "Service", "ExecStart");
    assert!(
        exec.starts_with('/'),
        "systemd wants an absolute path: {exec}"
    );
    assert!(
        exec.contains(" run --config /etc/kvaudit/kvaudit.toml"),
        "{exec}"
    );
    assert!(
        exec.contains("--log-format json"),
        "journald gets JSON lines: {exec}"
    );

    let timer = unit("deploy/systemd/kvaudit.timer");
    assert_known_keys(
        "kvaudit.timer",
        &timer,
        &[
            ("Unit", UNIT_KEYS),
            (
                "Timer",
                &[
                    "OnCalendar",
                    "RandomizedDelaySec",
                    "Persistent",
                    "AccuracySec",
                    "Unit",
                ],
            ),
            ("Install", &["WantedBy"]),
        ],
    );
    assert_eq!(value(&timer, "Timer", "Persistent"), "true");
    value(&timer, "Timer", "RandomizedDelaySec");
    assert_eq!(value(&timer, "Install", "WantedBy"), "timers.target");

    // systemd's own parser, where there is one: the calendar expression, and
    // both units with ExecStart pointed at the built binary.
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("deploy test: no systemd-analyze, units checked against the key list only");
        return;
    }
    let calendar = Command::new("systemd-analyze")
        .args(["calendar", value(&timer, "Timer", "OnCalendar")])
        .output()
        .unwrap();
    assert!(
        calendar.status.success(),
        "{}",
        String::from_utf8_lossy(&calendar.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let service_text = read("deploy/systemd/kvaudit.service")
        .replace("/usr/local/bin/kvaudit", env!("CARGO_BIN_EXE_kvaudit"));
    std::fs::write(dir.path().join("kvaudit.service"), service_text).unwrap();
    std::fs::write(
        dir.path().join("kvaudit.timer"),
        read("deploy/systemd/kvaudit.timer"),
    )
    .unwrap();
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(dir.path().join("kvaudit.service"))
        .arg(dir.path().join("kvaudit.timer"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&verify.stderr);
    assert!(
        verify.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify:\n{stderr}"
    );
}

#[test]
fn the_github_workflow_runs_on_schedule_with_oidc_and_fails_on_a_failed_check() {
    let Some(workflow) = yaml("deploy/github-actions/kvaudit.yml") else {
        return;
    };
    assert_cron(workflow["on"]["schedule"][0]["cron"].as_str().unwrap());
    assert_eq!(workflow["permissions"]["id-token"], "write");
    let steps = workflow["jobs"]["audit"]["steps"].as_array().unwrap();
    let uses = |action: &str| {
        steps
            .iter()
            .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(action)))
            .unwrap_or_else(|| panic!("no {action} step"))
    };
    let login = &uses("azure/login@")["with"];
    for key in ["client-id", "tenant-id", "subscription-id"] {
        assert!(login[key].is_string(), "azure/login without {key}");
    }
    assert!(login.get("creds").is_none(), "OIDC, not a stored secret");
    assert_eq!(uses("actions/upload-artifact@")["if"], "always()");
    // actions/cache saves only when the job succeeds, and the job fails on
    // findings: restore and save apart, for the binary and for the state.
    assert!(
        steps.iter().all(|s| !s["uses"]
            .as_str()
            .is_some_and(|u| u.starts_with("actions/cache@"))),
        "actions/cache saves only on success"
    );
    let cache = |action: &str, path: &str| {
        steps
            .iter()
            .find(|s| {
                s["uses"].as_str().is_some_and(|u| u.starts_with(action))
                    && s["with"]["path"].as_str() == Some(path)
            })
            .unwrap_or_else(|| panic!("no {action} of {path}"))
    };
    cache("actions/cache/restore@", "~/.cargo/bin/kvaudit");
    let save_binary = cache("actions/cache/save@", "~/.cargo/bin/kvaudit");
    assert!(
        !save_binary["if"]
            .as_str()
            .unwrap_or("")
            .contains("success()")
    );
    cache("actions/cache/restore@", "state");
    assert!(
        cache("actions/cache/save@", "state")["if"]
            .as_str()
            .unwrap()
            .contains("steps.audit.outputs.code")
    );
    // The Log Analytics token is taken right after sign-in, before the inventory.
    let position = |needle: &str| {
        steps
            .iter()
            .position(|s| s["run"].as_str().is_some_and(|r| r.contains(needle)))
            .unwrap_or_else(|| panic!("no step runs {needle}"))
    };
    assert!(
        position("get-access-token --resource https://api.loganalytics.io")
            < position("collect-inventory.sh")
    );

    let run = steps.iter().find(|s| s["id"] == "audit").unwrap()["run"]
        .as_str()
        .unwrap();
    assert!(run.contains("run --config kvaudit.toml"), "{run}");
    // Findings to code scanning: the run writes SARIF, and the upload runs
    // whatever the exit code, after the run, with the permission it needs.
    assert!(run.contains("--format") && run.contains("sarif"), "{run}");
    assert_eq!(workflow["permissions"]["security-events"], "write");
    let upload = uses("github/codeql-action/upload-sarif@v3");
    assert_eq!(upload["if"], "always()");
    let sarif_file = upload["with"]["sarif_file"].as_str().unwrap();
    assert!(sarif_file.starts_with("reports"), "{sarif_file}");
    let index = |step: &Value| steps.iter().position(|s| s == step).unwrap();
    assert!(index(upload) > index(steps.iter().find(|s| s["id"] == "audit").unwrap()));
    let last = steps.last().unwrap();
    assert_eq!(last["if"], "always()");
    assert!(
        last["run"].as_str().unwrap().contains("1) ")
            && last["run"].as_str().unwrap().contains("exit 1")
    );
}

#[test]
fn the_azure_devops_pipeline_runs_on_schedule_in_an_azure_cli_task() {
    let Some(pipeline) = yaml("deploy/azure-devops/azure-pipelines.yml") else {
        return;
    };
    let schedule = &pipeline["schedules"][0];
    assert_cron(schedule["cron"].as_str().unwrap());
    assert_eq!(schedule["always"], true);
    let jobs = pipeline["jobs"].as_array().unwrap();
    let job = |name: &str| {
        jobs.iter()
            .find(|j| j["job"] == name)
            .unwrap_or_else(|| panic!("no job {name}"))
    };
    // Cache@2 saves after a job that succeeded: the build is a job of its
    // own, which the audit (that fails on findings) depends on.
    let build = job("binary")["steps"].as_array().unwrap();
    assert!(build.iter().any(|s| s["task"] == "Cache@2"));
    assert!(build.iter().any(|s| {
        s["script"]
            .as_str()
            .is_some_and(|r| r.contains("cargo install"))
    }));
    let audit = job("audit");
    assert_eq!(audit["dependsOn"], "binary");
    let steps = audit["steps"].as_array().unwrap();
    assert!(!steps.iter().any(|s| {
        s["script"]
            .as_str()
            .is_some_and(|r| r.contains("cargo install"))
    }));
    let cli = steps
        .iter()
        .find(|s| s["task"] == "AzureCLI@2")
        .expect("an AzureCLI@2 task");
    assert!(cli["inputs"]["azureSubscription"].is_string());
    let script = cli["inputs"]["inlineScript"].as_str().unwrap();
    assert!(script.contains("run --config kvaudit.toml"), "{script}");
    let token = script.find("get-access-token --resource https://api.loganalytics.io");
    assert!(token.is_some_and(|t| script.find("collect-inventory.sh").is_some_and(|i| t < i)));
    // Every run publishes the state it ends with, so that a failed run's
    // successor still finds the newest good one.
    let state = steps
        .iter()
        .find(|s| s["artifact"] == "kvaudit-state")
        .unwrap();
    assert_eq!(state["condition"], "always()");
    let published: Vec<&str> = steps
        .iter()
        .filter_map(|s| s["artifact"].as_str())
        .collect();
    assert!(published.contains(&"kvaudit-reports") && published.contains(&"kvaudit-state"));
    // The SARIF SAST Scans Tab reads the artifact CodeAnalysisLogs; the run
    // writes findings.sarif and gathers it there.
    assert!(
        script.contains("--format") && script.contains("sarif"),
        "{script}"
    );
    assert!(script.contains("findings.sarif") && script.contains("CodeAnalysisLogs"));
    let sarif = steps
        .iter()
        .find(|s| s["artifact"] == "CodeAnalysisLogs")
        .expect("a CodeAnalysisLogs artifact");
    assert_eq!(sarif["condition"], "always()");
    assert!(
        sarif["publish"]
            .as_str()
            .unwrap()
            .ends_with("/CodeAnalysisLogs")
    );
    let restore = steps
        .iter()
        .find(|s| s["task"] == "DownloadPipelineArtifact@2")
        .unwrap();
    assert_eq!(restore["inputs"]["artifact"], "kvaudit-state");
}

#[test]
fn the_container_apps_job_is_scheduled_with_its_identity_and_read_only_roles() {
    let bicep = read("deploy/container-apps/main.bicep");
    for needle in [
        "'Microsoft.App/jobs@2024-03-01'",
        "triggerType: 'Schedule'",
        "scheduleTriggerConfig: {",
        "cronExpression: cronExpression",
        "type: 'UserAssigned'",
        "{ name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }",
        "storageType: 'AzureFile'",
    ] {
        assert!(bicep.contains(needle), "main.bicep lacks {needle}");
    }
    let cron = bicep
        .lines()
        .find_map(|l| l.strip_prefix("param cronExpression string = '"))
        .and_then(|l| l.strip_suffix('\''))
        .unwrap();
    assert_cron(cron);

    // The built-in roles by their IDs, which are the same in every tenant.
    for (role, id) in [
        ("logAnalyticsReader", "73c42c96-874c-492b-b04d-ab87d138a893"),
        ("reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7"),
        ("keyVaultReader", "21090545-7ca7-4776-b22c-e363652d74d2"),
        ("acrPull", "7f951dda-4ed3-4680-a7ca-43fe172d538d"),
    ] {
        assert!(
            bicep.contains(&format!("{role}: '{id}'")),
            "{role} is not {id}"
        );
    }
    assert!(bicep.contains("roleDefinitionId: roles.logAnalyticsReader"));
    assert!(bicep.contains("[roles.reader, roles.keyVaultReader] : [roles.reader]"));
    assert!(bicep.contains("param grantKeyVaultReader bool = false"));
    // No role that reads secret values or writes anything.
    for broad in ["Contributor", "Owner", "Secrets User", "Administrator"] {
        assert!(!bicep.contains(broad), "main.bicep mentions {broad}");
    }

    // The share is mounted as the image's user, so kvaudit can write its state.
    let user = read("Dockerfile")
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("USER ").map(str::to_owned))
        .unwrap();
    let uid = user.split(':').next().unwrap();
    assert!(
        bicep.contains(&format!("var kvauditUid = {uid}")),
        "Dockerfile USER {user}"
    );

    // Files the template loads or deploys exist.
    for relative in [
        "deploy/inventory/collect-inventory.sh",
        "deploy/container-apps/modules/workspace-reader.bicep",
        "deploy/container-apps/modules/vault-roles.bicep",
    ] {
        read(relative);
    }
    assert!(bicep.contains("loadTextContent('../inventory/collect-inventory.sh')"));

    let parameters: Value =
        serde_json::from_str(&read("deploy/container-apps/main.parameters.json")).unwrap();
    let declared: Vec<&str> = bicep
        .lines()
        .filter_map(|l| l.strip_prefix("param "))
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    for name in parameters["parameters"].as_object().unwrap().keys() {
        assert!(
            declared.contains(&name.as_str()),
            "parameter {name} is not declared"
        );
    }
}

#[test]
fn the_shell_scripts_parse() {
    for (shell, script) in [
        ("sh", "deploy/inventory/collect-inventory.sh"),
        ("bash", "deploy/container/build-and-smoke.sh"),
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
        let output = Command::new(shell).arg("-n").arg(&path).output().unwrap();
        assert!(
            output.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Runs collect-inventory.sh with a stand-in `az` that records its calls
/// and answers each with a small JSON document; returns the calls.
fn collect_inventory(vault_ids: Option<&str>) -> (Vec<String>, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let calls = dir.path().join("calls");
    let az = format!(
        "#!/bin/sh\necho \"$*\" >> '{}'\ncase \"$1 $2\" in\n  'keyvault list') echo /subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-listed ;;\n  *) echo '[]' ;;\nesac\n",
        calls.display()
    );
    let stub = bin.join("az");
    std::fs::write(&stub, az).unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&stub)
        .status()
        .unwrap();
    let out = dir.path().join("inventory");
    let mut command = Command::new("sh");
    command
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/inventory/collect-inventory.sh"))
        .arg(&out)
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("AZURE_SUBSCRIPTION_ID", "s1")
        .env_remove("VAULT_IDS");
    if let Some(ids) = vault_ids {
        command.env("VAULT_IDS", ids);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let calls = std::fs::read_to_string(&calls)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    (calls, files)
}

#[test]
fn the_inventory_covers_the_vaults_named_in_any_subscription_or_those_listed() {
    let a = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-a";
    let b = "/subscriptions/s2/resourceGroups/other/providers/Microsoft.KeyVault/vaults/kv-b";
    let (calls, files) = collect_inventory(Some(&format!("{a} {b}")));
    assert!(
        !calls.iter().any(|c| c.starts_with("keyvault list")),
        "{calls:?}"
    );
    for id in [a, b] {
        assert!(
            calls.contains(&format!("keyvault show --ids {id} -o json")),
            "{calls:?}"
        );
        assert!(
            calls.contains(&format!(
                "role assignment list --scope {id} --include-inherited -o json"
            )),
            "{calls:?}"
        );
    }
    for name in [
        "keyvault-show-kv-a.json",
        "keyvault-show-kv-b.json",
        "role-assignments-kv-b.json",
    ] {
        assert!(files.contains(&name.to_owned()), "{files:?}");
    }

    // Without VAULT_IDS, the vaults of the subscription are listed.
    let (calls, files) = collect_inventory(None);
    assert!(
        calls
            .iter()
            .any(|c| c.starts_with("keyvault list --subscription s1")),
        "{calls:?}"
    );
    assert!(
        files.contains(&"keyvault-show-kv-listed.json".to_owned()),
        "{files:?}"
    );

    // The Container Apps job passes the vaults it grants Reader on.
    let bicep = read("deploy/container-apps/main.bicep");
    assert!(bicep.contains("{ name: 'VAULT_IDS', value: join(vaultResourceIds, ' ') }"));
    assert!(!bicep.contains("AZURE_SUBSCRIPTION_ID"));
}
