"""Cameras on the office LAN (v13), their capture (v15) and the faces seen through them
(v16)."""

from __future__ import annotations

# Cameras found on the office LAN (issue #23, ADR 0035). Store version 13. Identity
# is the MAC, else the serial, else the WS-Discovery endpoint until the camera answers
# with credentials; the password is AES-GCM encrypted like personal data.
V13_CAMERAS = (
    """
    CREATE TABLE camera (
        id CHAR(32) NOT NULL PRIMARY KEY,
        identity VARCHAR(210) NOT NULL,
        mac VARCHAR(17),
        serial VARCHAR(64),
        endpoint VARCHAR(200),
        brand VARCHAR(32) NOT NULL,
        manufacturer VARCHAR(64),
        model VARCHAR(64),
        firmware VARCHAR(64),
        host VARCHAR(255) NOT NULL,
        onvif_port INTEGER NOT NULL CHECK (onvif_port BETWEEN 1 AND 65535),
        username VARCHAR(64),
        password_enc TEXT,
        profiles JSON NOT NULL,
        name VARCHAR(40),
        status VARCHAR(16) NOT NULL
            CHECK (status IN ('discovered', 'confirmed', 'ignored')),
        onvif_state VARCHAR(16) NOT NULL
            CHECK (onvif_state IN ('ok', 'no_credentials', 'auth_failed', 'unreachable',
                                   'onvif_error')),
        last_error VARCHAR(200),
        discovered_at DATETIME NOT NULL,
        last_seen_at DATETIME NOT NULL,
        confirmed_at DATETIME,
        updated_at DATETIME NOT NULL,
        CONSTRAINT uq_camera_identity UNIQUE (identity),
        CHECK ((username IS NULL) = (password_enc IS NULL))
    )
    """,
    "CREATE UNIQUE INDEX uq_camera_mac ON camera (mac) WHERE mac IS NOT NULL",
    "CREATE INDEX ix_camera_endpoint ON camera (endpoint)",
    "CREATE INDEX ix_camera_serial ON camera (serial)",
)

# Capture (issue #23 item 3, ADR 0040): each camera's sampling rate and which of its
# ONVIF profiles the reader opens (NULL: the smallest stream at least 640 wide). Store
# version 15.
V15_CAPTURE = (
    "ALTER TABLE camera ADD COLUMN sample_fps FLOAT NOT NULL DEFAULT 2.0 "
    "CHECK (sample_fps > 0 AND sample_fps <= 10)",
    "ALTER TABLE camera ADD COLUMN capture_profile VARCHAR(64)",
)

# Faces (issue #23 items 5–7, ADR 0047): the site's switch as the cloud last sent it (off
# until then); the gallery of face identities (customers who consented, staff, temporary
# visitor identities) with their templates sealed; sightings per identity and camera; the
# separate face consents given at the kiosk; and the log of every access to face data,
# kept on the appliance with the data. Store version 16.
V16_FACES = (
    """
    CREATE TABLE face_settings (
        id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
        enabled BOOLEAN NOT NULL DEFAULT 0,
        signage_text VARCHAR(500),
        notice_version VARCHAR(32),
        crop_retention_days INTEGER NOT NULL DEFAULT 0
            CHECK (crop_retention_days BETWEEN 0 AND 30),
        changed_at DATETIME
    )
    """,
    "INSERT INTO face_settings (id) VALUES (1)",
    """
    CREATE TABLE face_person (
        id CHAR(32) NOT NULL PRIMARY KEY,
        kind VARCHAR(10) NOT NULL CHECK (kind IN ('visitor', 'customer', 'staff')),
        visit_id CHAR(32),
        consultant_id INTEGER,
        created_at DATETIME NOT NULL,
        last_seen_at DATETIME NOT NULL,
        CHECK (kind != 'customer' OR visit_id IS NOT NULL)
    )
    """,
    "CREATE INDEX ix_face_person_last_seen ON face_person (last_seen_at)",
    """
    CREATE TABLE face_template (
        id INTEGER NOT NULL PRIMARY KEY,
        person_id CHAR(32) NOT NULL REFERENCES face_person (id) ON DELETE CASCADE,
        engine VARCHAR(16) NOT NULL,
        embedding_enc TEXT NOT NULL,
        created_at DATETIME NOT NULL
    )
    """,
    "CREATE INDEX ix_face_template_person ON face_template (person_id)",
    """
    CREATE TABLE face_sighting (
        id CHAR(32) NOT NULL PRIMARY KEY,
        person_id CHAR(32) NOT NULL REFERENCES face_person (id) ON DELETE CASCADE,
        camera_id CHAR(32) NOT NULL,
        first_seen_at DATETIME NOT NULL,
        last_seen_at DATETIME NOT NULL,
        count INTEGER NOT NULL CHECK (count >= 1),
        score FLOAT,
        crop_enc TEXT,
        crop_expires_at DATETIME,
        CHECK (last_seen_at >= first_seen_at),
        CHECK ((crop_enc IS NULL) = (crop_expires_at IS NULL))
    )
    """,
    "CREATE INDEX ix_face_sighting_person_camera ON face_sighting (person_id, camera_id, "
    "last_seen_at)",
    """
    CREATE TABLE face_consent (
        id CHAR(32) NOT NULL PRIMARY KEY,
        visit_id CHAR(32) NOT NULL,
        person_id CHAR(32),
        granted BOOLEAN NOT NULL,
        notice_version VARCHAR(32) NOT NULL,
        method VARCHAR(32) NOT NULL,
        recorded_at DATETIME NOT NULL,
        linked_at DATETIME
    )
    """,
    "CREATE INDEX ix_face_consent_visit ON face_consent (visit_id)",
    """
    CREATE TABLE face_access (
        id INTEGER NOT NULL PRIMARY KEY,
        at DATETIME NOT NULL,
        actor VARCHAR(64) NOT NULL,
        action VARCHAR(32) NOT NULL,
        person_id CHAR(32),
        detail VARCHAR(200)
    )
    """,
    # The access log is append-only for the agent: only its own retention removes rows.
    """
    CREATE TRIGGER face_access_no_update BEFORE UPDATE ON face_access
    BEGIN SELECT RAISE(ABORT, 'face_access is append-only'); END
    """,
)
