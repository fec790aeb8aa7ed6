//! Who called: the token claims of a record, whatever their spelling, reduced
//! to the principal columns of the schema.
//!
//! Claim names depend on the code path: data-plane calls carry the short JWT
//! names (`oid`, `upn`), ARM control-plane calls the long URI names
//! (`http://schemas.microsoft.com/identity/claims/objectidentifier`), and the
//! unauthenticated `Authentication` challenge carries none at all.

use serde::Deserialize;

use super::lenient::field;
use super::schema::{Cow, CredentialKind, IdentityKind};

/// First-party Microsoft applications whose background reads are not a
/// tenant's own activity (Microsoft Sentinel allow-lists the same two).
pub const MICROSOFT_SERVICE_APP_IDS: [(&str, &str); 2] = [
    (
        "509e4652-da8d-478d-a730-e9d4a1996ca4",
        "Azure Resource Graph",
    ),
    ("8cae6e77-e04e-42ce-b5cb-50d82bce26b1", "Policy Insights"),
];

/// The claims kvaudit reads, under every spelling Key Vault logs use.
#[derive(Debug, Default, Deserialize, PartialEq)]
pub struct Claims<'a> {
    #[serde(borrow, default, deserialize_with = "field")]
    pub oid: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "field",
        rename = "http://schemas.microsoft.com/identity/claims/objectidentifier"
    )]
    pub object_identifier: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    pub appid: Option<Cow<'a, str>>,
    /// v2.0 tokens name the client `azp` instead of `appid`.
    #[serde(borrow, default, deserialize_with = "field")]
    pub azp: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    pub appidacr: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    pub azpacr: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    pub upn: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "field",
        rename = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"
    )]
    pub upn_uri: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    pub unique_name: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "field",
        rename = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
    )]
    pub name_uri: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    pub idtyp: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    pub xms_mirid: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    pub tid: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "field",
        rename = "http://schemas.microsoft.com/identity/claims/tenantid"
    )]
    pub tenant_id_uri: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    pub scp: Option<Cow<'a, str>>,
    /// Managed HSM logs mangle the URI claim names into nested objects.
    #[serde(borrow, default, rename = "http_schemas_microsoft_com_identity")]
    pub mangled_microsoft: MangledNamespace<'a>,
    #[serde(
        borrow,
        default,
        rename = "http_schemas_xmlsoap_org_ws_2005_05_identity"
    )]
    pub mangled_xmlsoap: MangledNamespace<'a>,
}

/// `{"claims": {"objectidentifier": ...}}` under a mangled namespace key.
#[derive(Debug, Default, Deserialize, PartialEq)]
pub struct MangledNamespace<'a> {
    #[serde(borrow, default)]
    pub claims: MangledClaims<'a>,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
pub struct MangledClaims<'a> {
    #[serde(borrow, default, deserialize_with = "field")]
    pub objectidentifier: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    pub tenantid: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    pub upn: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "field")]
    pub name: Option<Cow<'a, str>>,
}

/// The principal columns derived from a record's claims.
#[derive(Debug, Default, PartialEq)]
pub struct Principal<'a> {
    pub principal_id: Option<String>,
    pub app_id: Option<String>,
    pub upn: Option<Cow<'a, str>>,
    pub tenant_id: Option<String>,
    pub kind: Option<IdentityKind>,
    pub credential: Option<CredentialKind>,
    pub managed_identity: Option<Cow<'a, str>>,
}

fn present<'s, 'a>(value: &'s Option<Cow<'a, str>>) -> Option<&'s Cow<'a, str>> {
    value
        .as_ref()
        .filter(|v| !v.is_empty() && v.as_ref() != "None")
}

fn lower(value: Option<&Cow<'_, str>>) -> Option<String> {
    value.map(|v| v.to_ascii_lowercase())
}

impl<'a> Claims<'a> {
    pub fn is_empty(&self) -> bool {
        *self == Claims::default()
    }

    /// Reduces the claims to the schema's principal columns.
    pub fn into_principal(self) -> Principal<'a> {
        if self.is_empty() {
            return Principal {
                kind: Some(IdentityKind::Unauthenticated),
                ..Principal::default()
            };
        }
        let principal_id = lower(
            present(&self.oid)
                .or(present(&self.object_identifier))
                .or(present(&self.mangled_microsoft.claims.objectidentifier)),
        );
        let app_id = lower(present(&self.appid).or(present(&self.azp)));
        let credential = present(&self.appidacr)
            .or(present(&self.azpacr))
            .map(|v| CredentialKind::from_claim(v));
        let tenant_id = lower(
            present(&self.tid)
                .or(present(&self.tenant_id_uri))
                .or(present(&self.mangled_microsoft.claims.tenantid)),
        );
        let app_only = present(&self.idtyp).is_some_and(|t| t.eq_ignore_ascii_case("app"));
        let managed_identity = present(&self.xms_mirid).cloned();
        let upn = if app_only {
            None
        } else {
            present(&self.upn)
                .or(present(&self.upn_uri))
                .or(present(&self.unique_name))
                .or(present(&self.name_uri))
                .or(present(&self.mangled_xmlsoap.claims.upn))
                .or(present(&self.mangled_xmlsoap.claims.name))
                .cloned()
        };
        let microsoft_service = app_id.as_deref().is_some_and(|id| {
            MICROSOFT_SERVICE_APP_IDS
                .iter()
                .any(|(known, _)| *known == id)
        });
        let kind = if managed_identity.is_some() {
            IdentityKind::ManagedIdentity
        } else if upn.is_some() || (!app_only && present(&self.scp).is_some()) {
            IdentityKind::User
        } else if microsoft_service {
            IdentityKind::MicrosoftService
        } else if principal_id.is_some() || app_id.is_some() {
            IdentityKind::ServicePrincipal
        } else {
            IdentityKind::Unknown
        };
        Principal {
            principal_id,
            app_id,
            upn,
            tenant_id,
            kind: Some(kind),
            credential: Some(credential.unwrap_or(CredentialKind::Unknown)),
            managed_identity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(json: &str) -> Principal<'_> {
        serde_json::from_str::<Claims>(json)
            .unwrap()
            .into_principal()
    }

    #[test]
    fn user_on_the_data_plane() {
        let p = principal(
            r#"{"oid":"A1B2","appid":"04b07795-8ddb-461a-bbee-02f9e1bf7b46","scp":"user_impersonation",
                "appidacr":"0","xms_az_nwperimid":[],"upn":"ana@contoso.com","amr":"pwd"}"#,
        );
        assert_eq!(p.kind, Some(IdentityKind::User));
        assert_eq!(p.principal_id.as_deref(), Some("a1b2"));
        assert_eq!(p.upn.as_deref(), Some("ana@contoso.com"));
        assert_eq!(p.credential, Some(CredentialKind::None));
    }

    #[test]
    fn user_on_the_control_plane_uses_uri_claims() {
        let p = principal(
            r#"{"http://schemas.microsoft.com/identity/claims/objectidentifier":"D9DA5048",
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn":"live.com#username@outlook.com",
                "appid":"1950a258-227b-4e31-a9cf-717495945fc2"}"#,
        );
        assert_eq!(p.kind, Some(IdentityKind::User));
        assert_eq!(p.principal_id.as_deref(), Some("d9da5048"));
        assert_eq!(p.credential, Some(CredentialKind::Unknown));
    }

    #[test]
    fn managed_identity_is_recognised_by_its_resource_id() {
        let p = principal(
            r#"{"oid":"x","appid":"y","appidacr":"2","idtyp":"app",
                "xms_mirid":"/subscriptions/s/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/web"}"#,
        );
        assert_eq!(p.kind, Some(IdentityKind::ManagedIdentity));
        assert_eq!(p.credential, Some(CredentialKind::Certificate));
    }

    #[test]
    fn service_principal_with_a_client_secret() {
        let p = principal(r#"{"oid":"x","appid":"y","appidacr":"1","idtyp":"app"}"#);
        assert_eq!(p.kind, Some(IdentityKind::ServicePrincipal));
        assert_eq!(p.credential, Some(CredentialKind::ClientSecret));
        assert_eq!(p.upn, None);
    }

    #[test]
    fn microsoft_background_callers() {
        let p = principal(
            r#"{"http://schemas.microsoft.com/identity/claims/objectidentifier":"o",
                "appid":"509e4652-da8d-478d-a730-e9d4a1996ca4"}"#,
        );
        assert_eq!(p.kind, Some(IdentityKind::MicrosoftService));
    }

    #[test]
    fn no_claims_is_the_unauthenticated_challenge() {
        assert_eq!(principal("{}").kind, Some(IdentityKind::Unauthenticated));
    }
}
