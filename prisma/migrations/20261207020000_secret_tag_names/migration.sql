-- Each secret carries the names of its tags (sorted bytewise), kept in step with secret_tags by
-- every write that links tags: a read of an environment needs no join over secret_tags and tags.

-- AlterTable
ALTER TABLE "secrets" ADD COLUMN     "tag_names" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- Hand-written: the names of the tags already linked.
UPDATE "secrets" s SET "tag_names" = x.names
  FROM (SELECT st.secret_id, array_agg(t.name ORDER BY t.name COLLATE "C") AS names
          FROM "secret_tags" st JOIN "tags" t ON t.id = st.tag_id
         GROUP BY st.secret_id) x
 WHERE x.secret_id = s.id;
