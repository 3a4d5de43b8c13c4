"""The mutations of workspaces, one module each."""

from embedcrm.graphql.workspaces.mutations import (
    create_site,
    create_workspace,
    deactivate_member,
    issue_panel_token,
    reactivate_member,
    update_crm_settings,
)

__all__ = [
    "create_site",
    "create_workspace",
    "deactivate_member",
    "issue_panel_token",
    "reactivate_member",
    "update_crm_settings",
]
