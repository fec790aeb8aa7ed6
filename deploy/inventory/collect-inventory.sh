#!/bin/sh
# Saves the Key Vault inventory kvaudit's least-privilege analysis reads
# (README, "Least privilege: the inventory") with the Azure CLI, already
# signed in: `az login --identity`, azure/login, AzureCLI@2.
#
#   collect-inventory.sh DIR
#
# Only what an identity with Reader on each vault can read is asked for:
# role assignments per vault scope (--include-inherited brings the resource
# group, subscription and management group grants that reach the vault), not
# `--all`, which needs Reader on the whole subscription. kvaudit drops the
# inherited assignments that appear in several vaults' files.
# Display names (`az ad sp list`, `az ad user list`) need Microsoft Graph
# permissions the identity may not have; they are optional for kvaudit, so a
# refusal there is a warning, not a failure.
# VAULT_IDS, when set, names the vaults (resource IDs, separated by spaces or
# newlines; they may be in different subscriptions): exactly those are
# inventoried, as the Container Apps example passes the vaults it grants
# Reader on. Otherwise the vaults are listed, in AZURE_SUBSCRIPTION_ID when
# set (else the CLI's current subscription).
# POSIX sh: the Azure CLI container image and CI runners both have it.
set -eu

dir=${1:?usage: collect-inventory.sh DIR}
# Written next to DIR and swapped in at the end, so an interrupted run leaves
# the previous inventory whole rather than half of a new one.
tmp="$dir.partial"
rm -rf "$tmp"
mkdir -p "$tmp"

subscription=${AZURE_SUBSCRIPTION_ID:+--subscription $AZURE_SUBSCRIPTION_ID}

if [ -n "${VAULT_IDS:-}" ]; then
  ids=$VAULT_IDS
else
  # shellcheck disable=SC2086 # $subscription is deliberately split into option and value
  ids=$(az keyvault list $subscription --resource-type vault --query "[].id" -o tsv)
fi
if [ -z "$ids" ]; then
  echo "collect-inventory: no key vaults visible to this identity; grant it Reader on the vaults" >&2
  exit 1
fi

count=0
for id in $ids; do
  name=${id##*/}
  az keyvault show --ids "$id" -o json > "$tmp/keyvault-show-$name.json"
  az role assignment list --scope "$id" --include-inherited -o json > "$tmp/role-assignments-$name.json"
  count=$((count + 1))
done

if ! az ad sp list --all --query "[?servicePrincipalType!='SocialIdp']" -o json > "$tmp/ad-sp-list.json"; then
  rm -f "$tmp/ad-sp-list.json"
  echo "collect-inventory: warning: no service principal names (needs Microsoft Graph Application.Read.All)" >&2
fi
if ! az ad user list -o json > "$tmp/ad-user-list.json"; then
  rm -f "$tmp/ad-user-list.json"
  echo "collect-inventory: warning: no user names (needs Microsoft Graph User.Read.All)" >&2
fi

rm -rf "$dir.previous"
if [ -d "$dir" ]; then mv "$dir" "$dir.previous"; fi
mv "$tmp" "$dir"
rm -rf "$dir.previous"
echo "collect-inventory: $count vaults saved to $dir"
