-- A trunk's port 0: the gateway is located by DNS SRV as RFC 3263 §4.2 says, else the
-- transport's default port (5060, 5061 for TLS). Trunks stored before keep their explicit port.
ALTER TABLE admin.trunks DROP CONSTRAINT trunks_port_check;
ALTER TABLE admin.trunks ADD CONSTRAINT trunks_port_check CHECK (port BETWEEN 0 AND 65535);
