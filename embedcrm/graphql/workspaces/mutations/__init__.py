"""The mutations of workspaces, one module each."""

from embedcrm.graphql.workspaces.mutations import (
    change_member_role,
    create_site,
    create_workspace,
    deactivate_member,
    delete_site,
    issue_panel_token,
    reactivate_member,
    revoke_panel_sessions,
    revoke_panel_token,
    update_crm_settings,
    update_site,
    update_workspace,
)

__all__ = [
    "change_member_role",
    "create_site",
    "create_workspace",
    "deactivate_member",
    "delete_site",
    "issue_panel_token",
    "reactivate_member",
    "revoke_panel_sessions",
    "revoke_panel_token",
    "update_crm_settings",
    "update_site",
    "update_workspace",
]
