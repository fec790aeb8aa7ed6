// kvaudit as an Azure Container Apps job: a daily scheduled run with a
// user-assigned managed identity, its state and reports on an Azure Files
// share. Deploy into the resource group that will hold the job:
//   az deployment group create -g RG -f main.bicep -p main.parameters.json
// Roles and why: docs/deployment.md ("Azure Container Apps job").
//
// The share (mounted at /var/lib/kvaudit) holds, before the first run:
//   kvaudit.toml       state = "state", out = "reports/{date}", inventory = ["inventory/"],
//                      [log-analytics] auth = "managed-identity"
//   suppressions.toml
// and, written by the job: inventory/ (the init container), state/, reports/.

@description('Location of every resource.')
param location string = resourceGroup().location

@description('Name prefix of the resources this template creates.')
param name string = 'kvaudit'

@description('kvaudit image, e.g. myregistry.azurecr.io/kvaudit:1.0.0 (built from the repository Dockerfile).')
param image string

@description('Azure Container Registry in this resource group holding the image; empty for a public registry.')
param registryName string = ''

@description('Azure CLI image of the init container that collects the inventory.')
param azureCliImage string = 'mcr.microsoft.com/azure-cli:latest'

@description('When the job runs: cron, 5 fields, UTC.')
param cronExpression string = '17 3 * * *'

@description('Resource ID of the Log Analytics workspace the vaults send their audit logs to.')
param workspaceResourceId string

@description('Resource IDs of the key vaults to audit (the inventory, least privilege).')
param vaultResourceIds array

@description('Also grant Key Vault Reader on the vaults. kvaudit does not need it (see docs/deployment.md): it adds data-plane reads of secret, key and certificate metadata.')
param grantKeyVaultReader bool = false

@description('Storage account name for the state share (globally unique, 3-24 lower-case letters and digits).')
param storageAccountName string

// Built-in role definition IDs (the same in every Azure tenant).
var roles = {
  logAnalyticsReader: '73c42c96-874c-492b-b04d-ab87d138a893'
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
  keyVaultReader: '21090545-7ca7-4776-b22c-e363652d74d2'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
}

// The UID/GID the image runs as (Dockerfile USER).
var kvauditUid = 10001

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${name}-id'
  location: location
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
  }
}

resource share 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = {
  name: '${storage.name}/default/kvaudit'
  properties: { shareQuota: 100 }
}

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  // The environment's own console logs (kvaudit's JSON lines land in
  // ContainerAppConsoleLogs_CL); not the workspace that is audited.
  name: '${name}-env-logs'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 90
  }
}

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${name}-env'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
  }
}

// SMB mounts take the account key; Container Apps has no identity-based
// Azure Files mount.
resource environmentStorage 'Microsoft.App/managedEnvironments/storages@2024-03-01' = {
  parent: environment
  name: 'kvaudit-state'
  properties: {
    azureFile: {
      accountName: storage.name
      accountKey: storage.listKeys().keys[0].value
      shareName: 'kvaudit'
      accessMode: 'ReadWrite'
    }
  }
  dependsOn: [share]
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = if (!empty(registryName)) {
  name: registryName
}

resource acrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(registryName)) {
  name: guid(registry.id, identity.id, roles.acrPull)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// Log Analytics Reader on the audited workspace: the KQL queries
// (Microsoft.OperationalInsights/workspaces/analytics/query/action).
module workspaceReader 'modules/workspace-reader.bicep' = {
  name: '${name}-workspace-reader'
  scope: resourceGroup(split(workspaceResourceId, '/')[2], split(workspaceResourceId, '/')[4])
  params: {
    workspaceName: last(split(workspaceResourceId, '/'))
    principalId: identity.properties.principalId
    roleDefinitionId: roles.logAnalyticsReader
  }
}

// Reader on each vault: `az keyvault list/show` (vault properties, access
// policies, tags) and `az role assignment list --scope VAULT`.
module vaultRoles 'modules/vault-roles.bicep' = [
  for (vaultId, i) in vaultResourceIds: {
    name: '${name}-vault-roles-${i}'
    scope: resourceGroup(split(vaultId, '/')[2], split(vaultId, '/')[4])
    params: {
      vaultName: last(split(vaultId, '/'))
      principalId: identity.properties.principalId
      roleDefinitionIds: grantKeyVaultReader ? [roles.reader, roles.keyVaultReader] : [roles.reader]
    }
  }
]

resource job 'Microsoft.App/jobs@2024-03-01' = {
  name: '${name}-job'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    environmentId: environment.id
    configuration: {
      triggerType: 'Schedule'
      scheduleTriggerConfig: {
        cronExpression: cronExpression
        parallelism: 1
        replicaCompletionCount: 1
      }
      // Three hours for a large first pull; a failed run is not retried
      // (exit 1 is a result, not a fault, and the next day's run catches up
      // from the state's watermark).
      replicaTimeout: 10800
      replicaRetryLimit: 0
      registries: empty(registryName) ? [] : [
        {
          server: registry.properties.loginServer
          identity: identity.id
        }
      ]
    }
    template: {
      initContainers: [
        {
          // Refreshes inventory/ before every run with the same identity.
          name: 'inventory'
          image: azureCliImage
          command: ['/bin/sh', '-c']
          args: [
            'az login --identity --client-id "$AZURE_CLIENT_ID" --allow-no-subscriptions >/dev/null && sh -c "$COLLECT_INVENTORY" collect-inventory /var/lib/kvaudit/inventory'
          ]
          env: [
            { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
            // Exactly the vaults granted Reader above, whatever their subscription.
            { name: 'VAULT_IDS', value: join(vaultResourceIds, ' ') }
            // The script in deploy/inventory/, passed whole: the Azure CLI image does not have it.
            { name: 'COLLECT_INVENTORY', value: loadTextContent('../inventory/collect-inventory.sh') }
          ]
          resources: { cpu: json('0.25'), memory: '0.5Gi' }
          volumeMounts: [{ volumeName: 'state', mountPath: '/var/lib/kvaudit' }]
        }
      ]
      containers: [
        {
          name: 'kvaudit'
          image: image
          // The image's ENTRYPOINT is kvaudit; the config lives on the share.
          args: ['--log-format', 'json', 'run', '--config', '/var/lib/kvaudit/kvaudit.toml']
          env: [
            // Selects the user-assigned identity for kvaudit's managed-identity sign-in.
            { name: 'AZURE_CLIENT_ID', value: identity.properties.clientId }
          ]
          // About 1.2 KB of memory per event (README, Performance): 3.5 GiB
          // suits a few million events a run. With the init container this
          // is 2 CPU / 4 GiB, a valid Consumption combination.
          resources: { cpu: json('1.75'), memory: '3.5Gi' }
          volumeMounts: [{ volumeName: 'state', mountPath: '/var/lib/kvaudit' }]
        }
      ]
      volumes: [
        {
          name: 'state'
          storageType: 'AzureFile'
          storageName: environmentStorage.name
          // SMB has no POSIX owners: files appear as owned by the mount's
          // uid/gid, so they are set to the image's user.
          mountOptions: 'uid=${kvauditUid},gid=${kvauditUid},dir_mode=0750,file_mode=0640'
        }
      ]
    }
  }
  dependsOn: [acrPull, workspaceReader, vaultRoles]
}

output identityClientId string = identity.properties.clientId
output identityPrincipalId string = identity.properties.principalId
output jobName string = job.name
