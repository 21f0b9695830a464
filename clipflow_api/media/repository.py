"""SQL rules of the media library, for every caller (GraphQL loaders today, jobs tomorrow).

Private media (the RLS policies unshared_folders / media_in_visible_folders say the same):
an unshared folder is seen by its creator and the workspace's owners and admins (who answer
for everything in it); a library file by its uploader and whoever sees its folder.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_, select

from ..auth.principal import Principal
from ..models import MediaFolder, UserMedia

FOLDER_OVERSEERS = ("owner", "admin")


def visible_folders(principal: Principal) -> list[ColumnElement[bool]]:
    """Conditions on media_folders: the folders ``principal`` may see."""
    if principal.role in FOLDER_OVERSEERS:
        return []
    return [or_(MediaFolder.is_shared, MediaFolder.user_id == principal.user_id)] if principal.user_id else [false()]


def visible_user_media(principal: Principal) -> list[ColumnElement[bool]]:
    """Conditions on user_media: the library files ``principal`` may see."""
    if principal.role in FOLDER_OVERSEERS:
        return []
    if not principal.user_id:
        return [false()]
    folders = select(MediaFolder.id).where(*visible_folders(principal))
    return [or_(UserMedia.user_id == principal.user_id, UserMedia.folder_id.is_(None), UserMedia.folder_id.in_(folders))]
