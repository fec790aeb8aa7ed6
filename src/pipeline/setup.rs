//! What a run loads before it reads any log: policies and inventory, so that
//! a broken policy or inventory file fails in seconds, not after minutes of
//! reading.

use std::path::PathBuf;

use crate::analyze::policy::{self, LoadedPolicies, PolicyOptions};
use crate::ingest::inventory::Inventory;

pub struct Setup {
    pub policies: LoadedPolicies,
    /// `file (n policies)` lines for the report header.
    pub policies_described: Vec<String>,
    pub inventory: Option<Inventory>,
}

impl Setup {
    pub fn load(policy: &PolicyOptions, inventory: &[PathBuf]) -> anyhow::Result<Setup> {
        let mut policies = LoadedPolicies::load(policy)?;
        // Described before the inventory's vault tags join the entities, so the
        // header counts the entities file's own entities.
        let policies_described = policies.describe();
        let inventory = if inventory.is_empty() {
            None
        } else {
            let inventory = Inventory::load(inventory)?;
            // Vault tags and display names join the Cedar entities; the
            // entities file's own values win.
            let entities = policy::entities::with_inventory_tags(
                &policies.user_entities,
                &inventory.vault_tags(),
            );
            policies.user_entities =
                policy::entities::with_inventory_names(&entities, &inventory.principal_names());
            Some(inventory)
        };
        Ok(Setup {
            policies,
            policies_described,
            inventory,
        })
    }
}
