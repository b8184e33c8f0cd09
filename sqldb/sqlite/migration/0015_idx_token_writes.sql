-- idx_token (a view since 0012) takes inserts and deletes as the table it
-- was did, for tools and repair scripts: a row written to it goes to
-- idx_tok with its system numbered, a row deleted from it leaves idx_tok.
-- Each trigger is one line: migrations are split at a semicolon that ends
-- a line.
/* only sqlite */ CREATE TRIGGER idx_token_insert INSTEAD OF INSERT ON idx_token BEGIN INSERT OR IGNORE INTO token_systems (system) VALUES (NEW.system); INSERT OR IGNORE INTO idx_tok (rid, pid, code, sid) SELECT NEW.rid, NEW.pid, NEW.code, sid FROM token_systems WHERE system = NEW.system; END;
/* only sqlite */ CREATE TRIGGER idx_token_delete INSTEAD OF DELETE ON idx_token BEGIN DELETE FROM idx_tok WHERE rid = OLD.rid AND pid = OLD.pid AND code = OLD.code AND sid = (SELECT sid FROM token_systems WHERE system = OLD.system); END;
/* only postgres */ CREATE FUNCTION idx_token_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'INSERT' THEN INSERT INTO token_systems (system) VALUES (NEW.system) ON CONFLICT (system) DO NOTHING; INSERT INTO idx_tok (rid, pid, code, sid) SELECT NEW.rid, NEW.pid, NEW.code, s.sid FROM token_systems s WHERE s.system = NEW.system; RETURN NEW; END IF; DELETE FROM idx_tok t USING token_systems s WHERE t.rid = OLD.rid AND t.pid = OLD.pid AND t.code = OLD.code AND s.sid = t.sid AND s.system = OLD.system; RETURN OLD; END $$;
/* only postgres */ CREATE TRIGGER idx_token_write INSTEAD OF INSERT OR DELETE ON idx_token FOR EACH ROW EXECUTE FUNCTION idx_token_write();
