//! The stored list of workspaces: its format versions, and adding, renaming, updating and
//! removing while keeping names unique and one workspace current.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

use super::{v1, validate_name, Workspace};

/// Current format of [`WorkspaceList`] as stored: 2, each workspace's options typed by its kind
/// (format 1 had one flat bag of every back end's options; it is read and converted).
pub const WORKSPACES_VERSION: u32 = 2;

/// Every workspace, as stored under one key of the app's settings store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceList {
    /// Format version ([`WORKSPACES_VERSION`] when written by this build).
    pub version: u32,
    /// The workspaces in the order the owner added them.
    pub workspaces: Vec<Workspace>,
    /// Id of the current workspace.
    pub current: Option<String>,
}

impl Default for WorkspaceList {
    fn default() -> Self {
        Self {
            version: WORKSPACES_VERSION,
            workspaces: Vec::new(),
            current: None,
        }
    }
}

impl WorkspaceList {
    /// Reads the stored value, migrating older shapes: nothing stored (`null`) is an empty list,
    /// version 0 was a bare array of workspaces, an object without `version` is version 1, and
    /// versions 0 and 1 had flat options, converted to each kind's own here (the list is written
    /// as the current version on the next save). A list saved by a newer Invite Desk is refused
    /// rather than half-read and overwritten.
    pub fn from_json(value: serde_json::Value) -> Result<WorkspaceList> {
        use serde_json::Value;
        let read_items = |items: Vec<Value>, version: u32| -> Result<Vec<Workspace>> {
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| {
                    let read = if version < 2 {
                        v1::read(v)
                    } else {
                        serde_json::from_value::<Workspace>(v)
                    };
                    read.map_err(|e| {
                        Error::storage(format!(
                            "workspace {} in the saved list can't be read: {e}",
                            i + 1
                        ))
                    })
                })
                .collect()
        };
        let mut list = match value {
            Value::Null => WorkspaceList::default(),
            Value::Array(items) => WorkspaceList {
                version: 0,
                workspaces: read_items(items, 0)?,
                current: None,
            },
            Value::Object(mut map) => {
                let version = match map.get("version") {
                    None | Some(Value::Null) => 1,
                    Some(v) => v
                        .as_u64()
                        .and_then(|v| u32::try_from(v).ok())
                        .ok_or_else(|| {
                            Error::storage("the saved workspace list has an unreadable version")
                        })?,
                };
                if version > WORKSPACES_VERSION {
                    return Err(Error::storage(format!(
                        "the workspace list was saved by a newer Invite Desk (format {version}); update Invite Desk"
                    )));
                }
                let workspaces = match map.remove("workspaces") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) => read_items(items, version)?,
                    Some(_) => {
                        return Err(Error::storage("the saved workspace list is not a list"))
                    }
                };
                let current = map
                    .remove("current")
                    .and_then(|v| v.as_str().map(str::to_string));
                WorkspaceList {
                    version,
                    workspaces,
                    current,
                }
            }
            _ => {
                return Err(Error::storage(
                    "the saved workspace list has an unknown shape",
                ))
            }
        };
        list.version = WORKSPACES_VERSION;
        // A duplicated id would make two workspaces share keychain entries: keep the first.
        let mut seen = std::collections::HashSet::new();
        list.workspaces.retain(|w| seen.insert(w.id.clone()));
        if list
            .current
            .as_deref()
            .is_none_or(|c| list.get(c).is_none())
        {
            list.current = list.workspaces.first().map(|w| w.id.clone());
        }
        Ok(list)
    }

    /// The value to store.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The workspace with this id.
    pub fn get(&self, id: &str) -> Option<&Workspace> {
        self.workspaces.iter().find(|w| w.id == id)
    }

    /// The current workspace, if any.
    pub fn current_workspace(&self) -> Option<&Workspace> {
        self.current.as_deref().and_then(|id| self.get(id))
    }

    fn position(&self, id: &str) -> Result<usize> {
        self.workspaces
            .iter()
            .position(|w| w.id == id)
            .ok_or_else(|| Error::UnknownWorkspace { id: id.to_string() })
    }

    /// Adds a workspace (validated; the id must be new). The first one becomes current.
    pub fn add(&mut self, mut workspace: Workspace) -> Result<()> {
        workspace.name = validate_name(&workspace.name)?;
        workspace.validate()?;
        if self.get(&workspace.id).is_some() {
            return Err(Error::invalid_input(
                "Workspace",
                "a workspace with this id already exists",
            ));
        }
        if self.current.is_none() {
            self.current = Some(workspace.id.clone());
        }
        self.workspaces.push(workspace);
        Ok(())
    }

    /// Renames a workspace.
    pub fn rename(&mut self, id: &str, name: &str) -> Result<()> {
        let name = validate_name(name)?;
        let i = self.position(id)?;
        self.workspaces[i].name = name;
        Ok(())
    }

    /// Replaces the workspace with the same id (validated).
    pub fn update(&mut self, mut workspace: Workspace) -> Result<()> {
        workspace.name = validate_name(&workspace.name)?;
        workspace.validate()?;
        let i = self.position(&workspace.id)?;
        self.workspaces[i] = workspace;
        Ok(())
    }

    /// Removes a workspace and returns it (the caller deletes its secrets). If it was current,
    /// the first remaining one becomes current.
    pub fn remove(&mut self, id: &str) -> Result<Workspace> {
        let i = self.position(id)?;
        let removed = self.workspaces.remove(i);
        if self.current.as_deref() == Some(id) {
            self.current = self.workspaces.first().map(|w| w.id.clone());
        }
        Ok(removed)
    }

    /// Chooses the current workspace.
    pub fn set_current(&mut self, id: &str) -> Result<()> {
        self.position(id)?;
        self.current = Some(id.to_string());
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::workspace::*;
    use WorkspaceKind::*;
    fn ws(id: &str, name: &str) -> Workspace {
        Workspace {
            id: id.into(),
            name: name.into(),
            base_url: "http://127.0.0.1:9999".into(),
            config: WorkspaceConfig::default_for(Gotrue),
            demo: false,
        }
    }

    #[test]
    fn list_add_rename_update_remove_current() {
        let mut list = WorkspaceList::default();
        list.add(ws("a", "  Acme  ")).unwrap();
        assert_eq!(list.get("a").unwrap().name, "Acme");
        assert_eq!(
            list.current.as_deref(),
            Some("a"),
            "the first workspace becomes current"
        );
        list.add(ws("b", "Beta")).unwrap();
        assert_eq!(list.current.as_deref(), Some("a"));
        assert_eq!(
            list.add(ws("b", "Again")).unwrap_err().kind(),
            "invalid_input"
        );
        assert_eq!(list.add(ws("c", "")).unwrap_err().kind(), "invalid_input");
        assert_eq!(
            list.add(ws("c", &"x".repeat(81))).unwrap_err().kind(),
            "invalid_input"
        );
        list.add(ws("c", &"é".repeat(80))).unwrap();
        let mut bad_url = ws("d", "D");
        bad_url.base_url = "http://example.com".into();
        assert_eq!(list.add(bad_url).unwrap_err().kind(), "invalid_url");
        let mut unnormalised = ws("d", "D");
        unnormalised.base_url = "http://127.0.0.1:9999/".into();
        assert_eq!(list.add(unnormalised).unwrap_err().kind(), "invalid_url");

        list.rename("b", "Beta team").unwrap();
        assert_eq!(list.get("b").unwrap().name, "Beta team");
        assert_eq!(
            list.rename("b", " \n ").unwrap_err().kind(),
            "invalid_input"
        );
        assert_eq!(
            list.rename("zz", "x").unwrap_err().kind(),
            "unknown_workspace"
        );

        let mut changed = list.get("b").unwrap().clone();
        changed.sending_mut().concurrency = Some(8);
        list.update(changed).unwrap();
        assert_eq!(list.get("b").unwrap().sending().concurrency, Some(8));
        let mut invalid = list.get("b").unwrap().clone();
        invalid.sending_mut().concurrency = Some(99);
        assert!(list.update(invalid).is_err());
        assert_eq!(
            list.get("b").unwrap().sending().concurrency,
            Some(8),
            "a refused update changes nothing"
        );

        list.set_current("b").unwrap();
        assert_eq!(list.current_workspace().unwrap().id, "b");
        assert_eq!(
            list.set_current("nope").unwrap_err().kind(),
            "unknown_workspace"
        );
        let removed = list.remove("b").unwrap();
        assert_eq!(removed.id, "b");
        assert_eq!(
            list.current.as_deref(),
            Some("a"),
            "removing the current one picks another"
        );
        list.remove("a").unwrap();
        list.remove("c").unwrap();
        assert_eq!(list.current, None);
        assert_eq!(list.remove("a").unwrap_err().kind(), "unknown_workspace");
    }

    #[test]
    fn json_round_trip_and_migrations() {
        let mut list = WorkspaceList::default();
        list.add(ws("a", "Acme")).unwrap();
        list.add(ws("b", "Beta")).unwrap();
        list.set_current("b").unwrap();
        let json = list.to_json();
        assert_eq!(json["version"], 2);
        assert_eq!(json["current"], "b");
        assert_eq!(json["workspaces"][0]["baseUrl"], "http://127.0.0.1:9999");
        assert_eq!(WorkspaceList::from_json(json).unwrap(), list);

        // v0: a bare array.
        let v0 = serde_json::json!([
            {"id": "x", "name": "Old", "kind": "supabase", "baseUrl": "https://abc.supabase.co"},
            {"id": "x", "name": "Duplicate id", "kind": "gotrue", "baseUrl": "http://127.0.0.1:1"},
            {"id": "y", "name": "Other", "kind": "royalti", "baseUrl": "https://api.royalti.io", "options": {"concurrency": 2}}
        ]);
        let migrated = WorkspaceList::from_json(v0).unwrap();
        assert_eq!(migrated.version, WORKSPACES_VERSION);
        assert_eq!(migrated.workspaces.len(), 2);
        assert_eq!(migrated.workspaces[0].name, "Old");
        assert_eq!(migrated.workspaces[1].sending().concurrency, Some(2));
        assert_eq!(migrated.workspaces[1].kind(), Royalti);
        assert_eq!(migrated.current.as_deref(), Some("x"));

        assert_eq!(
            WorkspaceList::from_json(serde_json::Value::Null).unwrap(),
            WorkspaceList::default()
        );
        let no_version = serde_json::json!({"workspaces": [], "current": "gone"});
        let l = WorkspaceList::from_json(no_version).unwrap();
        assert_eq!((l.version, l.current), (WORKSPACES_VERSION, None));
        for v in [3, 7] {
            let newer = serde_json::json!({"version": v, "workspaces": []});
            assert!(WorkspaceList::from_json(newer)
                .unwrap_err()
                .detail()
                .unwrap()
                .contains("newer"));
        }
        assert!(WorkspaceList::from_json(serde_json::json!("text")).is_err());
        assert!(WorkspaceList::from_json(serde_json::json!([{"id": 1}])).is_err());
    }

    fn fixture(name: &str) -> serde_json::Value {
        let path = format!(
            "{}/tests/fixtures/settings/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        doc["workspaces"].clone()
    }

    fn config_of<'a>(list: &'a WorkspaceList, id: &str) -> &'a WorkspaceConfig {
        &list.get(id).unwrap().config
    }

    /// A list as format 1 wrote it, one workspace of each kind (and each Royalti sign-in, and
    /// the demo): the same workspaces, ids, names and addresses, each with its own options.
    #[test]
    fn a_version_1_list_of_every_kind_is_converted() {
        let stored = fixture("v1-every-kind.json");
        let list = WorkspaceList::from_json(stored.clone()).unwrap();
        assert_eq!(list.version, 2);
        assert_eq!(list.workspaces.len(), 6);
        for (w, old) in list
            .workspaces
            .iter()
            .zip(stored["workspaces"].as_array().unwrap())
        {
            assert_eq!(w.id, old["id"].as_str().unwrap());
            assert_eq!(w.name, old["name"].as_str().unwrap());
            assert_eq!(w.base_url, old["baseUrl"].as_str().unwrap());
            assert_eq!(serde_json::to_value(w.kind()).unwrap(), old["kind"]);
            assert_eq!(w.demo, old["demo"].as_bool().unwrap());
            assert_eq!(
                serde_json::to_value(w.sending()).unwrap(),
                serde_json::json!({
                    "defaultRedirectUrl": old["options"]["defaultRedirectUrl"],
                    "concurrency": old["options"]["concurrency"],
                    "emailsPerHour": old["options"]["emailsPerHour"],
                })
            );
            w.validate().unwrap();
        }
        assert_eq!(
            list.current.as_deref(),
            Some("0b5e7c1a-3f0e-4d8a-9c61-5a2d7e9f1b03")
        );
        let id = |n: u8| format!("0b5e7c1a-3f0e-4d8a-9c61-5a2d7e9f1b0{n}");
        assert_eq!(
            config_of(&list, &id(1)),
            &WorkspaceConfig::Supabase(SupabaseOptions {
                link_lifetime_hours: Some(48),
                sending: SendingOptions {
                    default_redirect_url: Some("https://app.example.com/welcome".into()),
                    concurrency: Some(2),
                    emails_per_hour: Some(2),
                },
            })
        );
        assert_eq!(
            config_of(&list, &id(2)),
            &WorkspaceConfig::Gotrue(GotrueOptions {
                auth_mode: GotrueSignIn::JwtSecret,
                gotrue_fork: GotrueFork::Supabase,
                admin_role: Some("service_role".into()),
                link_lifetime_hours: Some(24),
                sending: SendingOptions {
                    emails_per_hour: Some(30),
                    ..Default::default()
                },
            })
        );
        assert_eq!(
            config_of(&list, &id(3)),
            &WorkspaceConfig::Netlify(NetlifyOptions {
                account_email: Some("owner@example.com".into()),
                keep_signed_in: true,
                function_path: Some("/.netlify/functions/invite-desk".into()),
                sending: SendingOptions {
                    concurrency: Some(4),
                    ..Default::default()
                },
            })
        );
        assert_eq!(
            config_of(&list, &id(4)),
            &WorkspaceConfig::Royalti(RoyaltiOptions {
                auth_mode: RoyaltiSignIn::ApiKey,
                ..Default::default()
            })
        );
        assert_eq!(
            config_of(&list, &id(5)),
            &WorkspaceConfig::Royalti(RoyaltiOptions {
                auth_mode: RoyaltiSignIn::Password,
                remote_workspace_id: Some("7f1c0d2e-royalti-ws".into()),
                account_email: Some("owner@example.com".into()),
                role: Some("owner".into()),
                keep_signed_in: true,
                sending: SendingOptions::default(),
            })
        );
        assert!(list.get(&id(6)).unwrap().demo);

        // Written as version 2: each kind's own keys only, and read back the same.
        let v2 = list.to_json();
        assert_eq!(v2["version"], 2);
        let netlify = &v2["workspaces"][2];
        assert_eq!(netlify["kind"], "netlify");
        let keys: Vec<&str> = netlify["options"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for k in ["adminRole", "gotrueFork", "remoteWorkspaceId", "authMode"] {
            assert!(!keys.contains(&k), "{k} in {netlify}");
        }
        assert_eq!(WorkspaceList::from_json(v2).unwrap(), list);
    }

    /// Edited by hand: no version, missing options, keys of another kind, a sign-in mode the
    /// kind does not have, an unknown key. Read as the old code used it.
    #[test]
    fn a_hand_edited_version_1_list_is_read_as_the_old_code_used_it() {
        let list = WorkspaceList::from_json(fixture("v1-hand-edited.json")).unwrap();
        let ids: Vec<&str> = list.workspaces.iter().map(|w| w.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "9a1d4e2b-hand-0001",
                "9a1d4e2b-hand-0002",
                "9a1d4e2b-hand-0003",
                "9a1d4e2b-hand-0004"
            ]
        );
        // The current id named no workspace: the first one is current.
        assert_eq!(list.current.as_deref(), Some("9a1d4e2b-hand-0001"));
        // `api_key` meant nothing to GoTrue: the old code signed in with the JWT secret.
        assert_eq!(
            config_of(&list, "9a1d4e2b-hand-0001"),
            &WorkspaceConfig::Gotrue(GotrueOptions {
                sending: SendingOptions {
                    concurrency: Some(3),
                    ..Default::default()
                },
                ..Default::default()
            })
        );
        assert_eq!(
            config_of(&list, "9a1d4e2b-hand-0002"),
            &WorkspaceConfig::Netlify(NetlifyOptions {
                account_email: Some("owner@example.com".into()),
                ..Default::default()
            })
        );
        assert_eq!(
            config_of(&list, "9a1d4e2b-hand-0003"),
            &WorkspaceConfig::default_for(Supabase)
        );
        assert_eq!(
            config_of(&list, "9a1d4e2b-hand-0004"),
            &WorkspaceConfig::Royalti(RoyaltiOptions {
                auth_mode: RoyaltiSignIn::Password,
                remote_workspace_id: Some("w-1".into()),
                keep_signed_in: true,
                ..Default::default()
            })
        );
    }

    /// Version 2 is read strictly: another kind's key in a saved workspace is an unreadable
    /// list (the settings file then puts back its last good copy), never silently kept.
    #[test]
    fn version_2_refuses_another_kinds_options() {
        let mut list = WorkspaceList::default();
        list.add(ws("a", "Acme")).unwrap();
        let mut json = list.to_json();
        assert_eq!(WorkspaceList::from_json(json.clone()).unwrap(), list);
        json["workspaces"][0]["options"]["accountEmail"] = "a@b.co".into();
        let e = WorkspaceList::from_json(json).unwrap_err();
        assert_eq!(e.kind(), "storage");
        assert!(e.detail().unwrap().contains("accountEmail"), "{e:?}");
    }
}
