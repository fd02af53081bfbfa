//! The one place the engine's inputs for a (caller, key) pair are put together: the key side
//! (key policies and grants), the caller's side (identity policies, permissions boundary,
//! session policies) and the organisation and network side (SCP and RCP levels, VPC endpoint
//! policy). `can`, the key rules and the access graph each say what they know; the inventory
//! fills in the organisation levels they leave open.

use std::sync::Arc;

use super::Inventory;
use crate::eval::{Caller, Inputs, KeyInputs, Levels, NamedPolicy};

/// A builder of [`Inputs`]. The SCP levels above the caller's account and the RCP levels above
/// the key's account (the two organisation gates, R50) come from the inventory unless the
/// caller of the builder sets them; they are looked up only in [`InputsFor::build`], so a level given explicitly
/// costs no lookup.
#[derive(Debug)]
pub(crate) struct InputsFor<'a> {
    inventory: Option<&'a Inventory>,
    caller_account: &'a str,
    key_account: Option<&'a str>,
    inputs: Inputs,
    scp_set: bool,
    rcp_set: bool,
}

impl Inventory {
    /// The engine's inputs for `caller` asking about a key of `key_account` (`None` when the
    /// key's ARN names no account: then no RCP applies).
    pub(crate) fn inputs_for<'a>(
        &'a self,
        caller: &'a Caller,
        key_account: Option<&'a str>,
    ) -> InputsFor<'a> {
        InputsFor {
            inventory: Some(self),
            caller_account: &caller.account,
            key_account,
            inputs: Inputs::default(),
            scp_set: false,
            rcp_set: false,
        }
    }
}

impl InputsFor<'static> {
    /// Inputs with no inventory behind them: only what is set explicitly counts.
    pub(crate) fn standalone() -> Self {
        InputsFor {
            inventory: None,
            caller_account: "",
            key_account: None,
            inputs: Inputs::default(),
            scp_set: true,
            rcp_set: true,
        }
    }
}

impl InputsFor<'_> {
    /// The keys the request is about (its key, and a destination key).
    pub(crate) fn keys(mut self, keys: impl IntoIterator<Item = Arc<KeyInputs>>) -> Self {
        self.inputs.keys = keys.into_iter().collect();
        self
    }

    /// The caller's identity policies; `None` when they are not known.
    pub(crate) fn identity(mut self, identity: Option<Arc<[NamedPolicy]>>) -> Self {
        self.inputs.identity = identity;
        self
    }

    /// The caller's permissions boundary.
    pub(crate) fn boundary(mut self, boundary: Option<NamedPolicy>) -> Self {
        self.inputs.boundary = boundary;
        self
    }

    /// The session policies of the caller's session.
    pub(crate) fn session(mut self, session: Vec<NamedPolicy>) -> Self {
        self.inputs.session = session;
        self
    }

    /// The SCP levels, decided by the caller of the builder (`None`: the gate is skipped).
    pub(crate) fn scp(mut self, scp: Option<Levels>) -> Self {
        self.inputs.scp = scp;
        self.scp_set = true;
        self
    }

    /// RCP levels given explicitly win; without them the inventory's levels for the key's
    /// account apply.
    pub(crate) fn rcp_or_inventory(mut self, rcp: Option<Levels>) -> Self {
        if rcp.is_some() {
            self.inputs.rcp = rcp;
            self.rcp_set = true;
        }
        self
    }

    /// The VPC endpoint policy of the endpoint the request used.
    pub(crate) fn vpce(mut self, vpce: Option<NamedPolicy>) -> Self {
        self.inputs.vpce = vpce;
        self
    }

    /// The inputs, with the organisation levels left open taken from the inventory.
    pub(crate) fn build(self) -> Inputs {
        let mut inputs = self.inputs;
        if let Some(inv) = self.inventory {
            if !self.scp_set {
                inputs.scp = inv.scp_levels(self.caller_account);
            }
            if !self.rcp_set {
                inputs.rcp = self.key_account.and_then(|a| inv.rcp_levels(a));
            }
        }
        inputs
    }
}
