//! The statements both SQL backends share, written once. Placeholders are `$1`, `$2`, … (sqlx
//! binds them by number on SQLite too) and the SQL sticks to what both dialects read alike;
//! what differs per backend (credential creates, the per-mint read, marking credentials used,
//! closing) is passed in as that backend's own methods.

/// `impl Store for $store { <$own methods> <the shared methods> }`. The store has `reader` and
/// `writer` pools and a `BEGIN_WRITE` statement that opens a write transaction; `$row` is its
/// sqlx row type, for which [`row_mappers!`] has been invoked in the same module.
macro_rules! impl_store {
    ($store:ty, $row:ty, { $($own:tt)* }) => {
        #[async_trait]
        impl Store for $store {
            $($own)*

            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1")
                    .execute(&self.reader)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }

            async fn get_meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
                sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_error)
            }

            async fn insert_meta(&self, key: &str, value: &[u8]) -> Result<bool> {
                let done =
                    sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(key)
                        .bind(value)
                        .execute(&self.writer)
                        .await
                        .map_err(db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn count_users(&self) -> Result<i64> {
                sqlx::query_scalar("SELECT COUNT(*) FROM users")
                    .fetch_one(&self.reader)
                    .await
                    .map_err(db_error)
            }

            async fn create_user(&self, user: NewUser) -> Result<User> {
                let at = now();
                let row = sqlx::query(
                    "INSERT INTO users (email, first_name, last_name, admin, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
                )
                .bind(user.email)
                .bind(user.first_name)
                .bind(user.last_name)
                .bind(user.admin)
                .bind(at)
                .bind(at)
                .fetch_one(&self.writer)
                .await
                .map_err(db_error)?;
                user_from_row(&row)
            }

            async fn get_user(&self, id: i64) -> Result<Option<User>> {
                let row = sqlx::query("SELECT * FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_error)?;
                row.as_ref().map(user_from_row).transpose()
            }

            async fn list_users(&self, page: PageRequest) -> Result<Page<User>> {
                let rows = sqlx::query("SELECT * FROM users ORDER BY id LIMIT $1 OFFSET $2")
                    .bind(page.limit)
                    .bind(page.offset)
                    .fetch_all(&self.reader)
                    .await
                    .map_err(db_error)?;
                let total = self.count_users().await?;
                Ok(Page {
                    items: rows.iter().map(user_from_row).collect::<Result<_>>()?,
                    total,
                })
            }

            async fn touch_user(&self, id: i64, at: Millis) -> Result<()> {
                sqlx::query("UPDATE users SET last_seen = $1 WHERE id = $2")
                    .bind(at)
                    .bind(id)
                    .execute(&self.writer)
                    .await
                    .map_err(db_error)?;
                Ok(())
            }

            async fn create_api_key(&self, user_id: i64, name: &str, key_hash: &[u8]) -> Result<ApiKey> {
                let at = now();
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO api_keys (user_id, name, key_hash, created_at) VALUES ($1, $2, $3, $4) \
                     RETURNING id",
                )
                .bind(user_id)
                .bind(name)
                .bind(key_hash)
                .bind(at)
                .fetch_one(&self.writer)
                .await
                .map_err(db_error)?;
                Ok(ApiKey {
                    id,
                    user_id,
                    name: name.to_string(),
                    created_at: at,
                })
            }

            async fn find_api_key(&self, key_hash: &[u8]) -> Result<Option<(Vec<u8>, User)>> {
                let row = sqlx::query(
                    "SELECT k.key_hash, u.* FROM api_keys k JOIN users u ON u.id = k.user_id \
                     WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND u.is_active",
                )
                .bind(key_hash)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_error)?;
                match row {
                    Some(row) => Ok(Some((col(&row, "key_hash")?, user_from_row(&row)?))),
                    None => Ok(None),
                }
            }

            async fn revoke_api_key(&self, user_id: i64, key_id: i64) -> Result<bool> {
                let done = sqlx::query(
                    "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
                )
                .bind(now())
                .bind(key_id)
                .bind(user_id)
                .execute(&self.writer)
                .await
                .map_err(db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn create_team(&self, name: &str, slug: &str) -> Result<Team> {
                let row = sqlx::query(
                    "INSERT INTO teams (name, slug, created_at) VALUES ($1, $2, $3) RETURNING *",
                )
                .bind(name)
                .bind(slug)
                .bind(now())
                .fetch_one(&self.writer)
                .await
                .map_err(db_error)?;
                team_from_row(&row)
            }

            async fn get_team(&self, id: i64) -> Result<Option<Team>> {
                let row = sqlx::query("SELECT * FROM teams WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_error)?;
                row.as_ref().map(team_from_row).transpose()
            }

            async fn get_team_with_role(
                &self,
                team_id: i64,
                user_id: i64,
            ) -> Result<Option<(Team, Option<String>)>> {
                let row = sqlx::query(
                    "SELECT t.*, m.role FROM teams t \
                     LEFT JOIN memberships m ON m.team_id = t.id AND m.user_id = $1 WHERE t.id = $2",
                )
                .bind(user_id)
                .bind(team_id)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_error)?;
                match row {
                    Some(row) => Ok(Some((team_from_row(&row)?, col(&row, "role")?))),
                    None => Ok(None),
                }
            }

            async fn get_team_by_slug(&self, slug: &str) -> Result<Option<Team>> {
                let row = sqlx::query("SELECT * FROM teams WHERE slug = $1")
                    .bind(slug)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_error)?;
                row.as_ref().map(team_from_row).transpose()
            }

            async fn list_teams(&self, member: Option<i64>, page: PageRequest) -> Result<Page<Team>> {
                let (rows, total): (Vec<$row>, i64) = match member {
                    None => (
                        sqlx::query("SELECT * FROM teams ORDER BY id LIMIT $1 OFFSET $2")
                            .bind(page.limit)
                            .bind(page.offset)
                            .fetch_all(&self.reader)
                            .await
                            .map_err(db_error)?,
                        sqlx::query_scalar("SELECT COUNT(*) FROM teams")
                            .fetch_one(&self.reader)
                            .await
                            .map_err(db_error)?,
                    ),
                    Some(user_id) => (
                        sqlx::query(
                            "SELECT t.* FROM teams t JOIN memberships m ON m.team_id = t.id \
                             WHERE m.user_id = $1 ORDER BY t.id LIMIT $2 OFFSET $3",
                        )
                        .bind(user_id)
                        .bind(page.limit)
                        .bind(page.offset)
                        .fetch_all(&self.reader)
                        .await
                        .map_err(db_error)?,
                        sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE user_id = $1")
                            .bind(user_id)
                            .fetch_one(&self.reader)
                            .await
                            .map_err(db_error)?,
                    ),
                };
                Ok(Page {
                    items: rows.iter().map(team_from_row).collect::<Result<_>>()?,
                    total,
                })
            }

            async fn set_membership(&self, team_id: i64, user_id: i64, role: &str) -> Result<()> {
                sqlx::query(
                    "INSERT INTO memberships (team_id, user_id, role) VALUES ($1, $2, $3) \
                     ON CONFLICT (team_id, user_id) DO UPDATE SET role = excluded.role",
                )
                .bind(team_id)
                .bind(user_id)
                .bind(role)
                .execute(&self.writer)
                .await
                .map_err(db_error)?;
                Ok(())
            }

            async fn remove_membership(&self, team_id: i64, user_id: i64) -> Result<bool> {
                let done = sqlx::query("DELETE FROM memberships WHERE team_id = $1 AND user_id = $2")
                    .bind(team_id)
                    .bind(user_id)
                    .execute(&self.writer)
                    .await
                    .map_err(db_error)?;
                Ok(done.rows_affected() > 0)
            }

            async fn deactivate_user(&self, id: i64, at: Millis) -> Result<Deactivation> {
                let mut tx = self.writer.begin_with(Self::BEGIN_WRITE).await.map_err(db_error)?;
                // Locks the active admins (PostgreSQL; SQLite's write transaction already
                // excludes other writers), so two admins deactivating each other take turns
                // and the second sees the first's change.
                let admins: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT id FROM users WHERE admin AND is_active ORDER BY id{}",
                    Self::LOCK_ROWS
                )))
                .fetch_all(&mut *tx)
                .await
                .map_err(db_error)?;
                let Some(row) = sqlx::query("SELECT * FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_error)?
                else {
                    return Ok(Deactivation::NotFound);
                };
                let mut user = user_from_row(&row)?;
                if !user.is_active {
                    return Ok(Deactivation::Done(user));
                }
                if admins == [id] {
                    return Ok(Deactivation::LastAdmin);
                }
                sqlx::query("UPDATE users SET is_active = FALSE, updated_at = $1 WHERE id = $2")
                    .bind(at)
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_error)?;
                tx.commit().await.map_err(db_error)?;
                user.is_active = false;
                user.updated_at = at;
                Ok(Deactivation::Done(user))
            }

            async fn get_membership(&self, team_id: i64, user_id: i64) -> Result<Option<String>> {
                sqlx::query_scalar("SELECT role FROM memberships WHERE team_id = $1 AND user_id = $2")
                    .bind(team_id)
                    .bind(user_id)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_error)
            }

            async fn create_folder(&self, folder: NewFolder) -> Result<Folder> {
                let row = sqlx::query(
                    "INSERT INTO folders (team_id, name, content_type, parent_folder_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING *, CAST(0 AS BIGINT) AS size",
                )
                .bind(folder.team_id)
                .bind(folder.name)
                .bind(folder.content_type)
                .bind(folder.parent_folder_id)
                .bind(now())
                .fetch_one(&self.writer)
                .await
                .map_err(db_error)?;
                folder_from_row(&row)
            }

            async fn get_folder(&self, id: i64) -> Result<Option<Folder>> {
                let row = sqlx::query(
                    "SELECT f.*, (SELECT COUNT(*) FROM credentials c \
                                  WHERE c.folder_id = f.id AND c.live_id IS NULL) AS size \
                     FROM folders f WHERE f.id = $1",
                )
                .bind(id)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_error)?;
                row.as_ref().map(folder_from_row).transpose()
            }

            async fn list_folders(
                &self,
                team_id: Option<i64>,
                member: Option<i64>,
                page: PageRequest,
            ) -> Result<Page<Folder>> {
                // NULL parameters switch a filter off, keeping this one static statement.
                const FILTER: &str = "($1 IS NULL OR f.team_id = $1) AND ($2 IS NULL OR f.team_id IN \
                     (SELECT team_id FROM memberships WHERE user_id = $2))";
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT f.*, (SELECT COUNT(*) FROM credentials c \
                                  WHERE c.folder_id = f.id AND c.live_id IS NULL) AS size \
                     FROM folders f WHERE {FILTER} ORDER BY f.id LIMIT $3 OFFSET $4"
                )))
                .bind(team_id)
                .bind(member)
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(&self.reader)
                .await
                .map_err(db_error)?;
                let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM folders f WHERE {FILTER}"
                )))
                .bind(team_id)
                .bind(member)
                .fetch_one(&self.reader)
                .await
                .map_err(db_error)?;
                Ok(Page {
                    items: rows.iter().map(folder_from_row).collect::<Result<_>>()?,
                    total,
                })
            }

            async fn get_credential_view(&self, id: i64) -> Result<Option<CredentialView>> {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{VIEW_SELECT} WHERE c.id = $1 AND c.live_id IS NULL"
                )))
                .bind(id)
                .fetch_optional(&self.reader)
                .await
                .map_err(db_error)?;
                row.as_ref().map(view_from_row).transpose()
            }

            async fn list_credentials(
                &self,
                filter: CredentialFilter,
                page: PageRequest,
            ) -> Result<Page<CredentialView>> {
                // NULL parameters switch a filter off, keeping one static statement per query.
                const WHERE: &str = "WHERE c.live_id IS NULL \
                     AND ($1 IS NULL OR c.team_id IN (SELECT team_id FROM memberships WHERE user_id = $1)) \
                     AND ($2 IS NULL OR c.team_id = $2) \
                     AND ($3 IS NULL OR c.folder_id = $3) \
                     AND ($4 IS NULL OR (c.allowed_hosts <> '[]') = $4) \
                     AND (NOT $5 OR c.last_used_at IS NULL)";
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "{VIEW_SELECT} {WHERE} ORDER BY c.id LIMIT $6 OFFSET $7"
                )))
                .bind(filter.member)
                .bind(filter.team_id)
                .bind(filter.folder_id)
                .bind(filter.restricted)
                .bind(filter.unused)
                .bind(page.limit)
                .bind(page.offset)
                .fetch_all(&self.reader)
                .await
                .map_err(db_error)?;
                let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM credentials c {WHERE}"
                )))
                .bind(filter.member)
                .bind(filter.team_id)
                .bind(filter.folder_id)
                .bind(filter.restricted)
                .bind(filter.unused)
                .fetch_one(&self.reader)
                .await
                .map_err(db_error)?;
                Ok(Page {
                    items: rows.iter().map(view_from_row).collect::<Result<_>>()?,
                    total,
                })
            }

            async fn update_credential(&self, c: &Credential) -> Result<Option<Credential>> {
                let row = sqlx::query(
                    "UPDATE credentials SET name = $1, slug = $2, folder_id = $3, read_access = $4, \
                     shared_team_slugs = $5, description = $6, metadata = $7, allowed_hosts = $8, \
                     expires_at = $9, expiry_notifications_enabled = $10, notification_recipient_ids = $11, \
                     config = $12, secret = $13, test_credential_enabled = $14, \
                     version = version + 1, updated_at = $15 \
                     WHERE id = $16 AND version = $17 RETURNING *",
                )
                .bind(&c.name)
                .bind(&c.slug)
                .bind(c.folder_id)
                .bind(&c.read_access)
                .bind(json_text(&c.shared_team_slugs))
                .bind(&c.description)
                .bind(json_text(&c.metadata))
                .bind(json_text(&c.allowed_hosts))
                .bind(c.expires_at)
                .bind(c.expiry_notifications_enabled)
                .bind(json_text(&c.notification_recipient_ids))
                .bind(json_text(&c.config))
                .bind(&c.secret)
                .bind(c.test_credential_enabled)
                .bind(now())
                .bind(c.id)
                .bind(c.version)
                .fetch_optional(&self.writer)
                .await
                .map_err(db_error)?;
                row.as_ref().map(credential_from_row).transpose()
            }

            async fn delete_credential(&self, id: i64) -> Result<bool> {
                // The test credential goes with it (ON DELETE CASCADE).
                let done = sqlx::query("DELETE FROM credentials WHERE id = $1 AND live_id IS NULL")
                    .bind(id)
                    .execute(&self.writer)
                    .await
                    .map_err(db_error)?;
                Ok(done.rows_affected() == 1)
            }

            async fn count_credentials_by_mode(&self) -> Result<Vec<(String, i64)>> {
                sqlx::query_as(
                    "SELECT mode, COUNT(*) FROM credentials WHERE live_id IS NULL GROUP BY mode ORDER BY mode",
                )
                .fetch_all(&self.reader)
                .await
                .map_err(db_error)
            }

            async fn get_test_credential(&self, live_id: i64) -> Result<Option<Credential>> {
                let row = sqlx::query("SELECT * FROM credentials WHERE live_id = $1")
                    .bind(live_id)
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(db_error)?;
                row.as_ref().map(credential_from_row).transpose()
            }

            async fn attach_test_credential(&self, credential: NewCredential) -> Result<Credential> {
                let live_id = credential.live_id;
                let at = now();
                let mut tx = self.writer.begin_with(Self::BEGIN_WRITE).await.map_err(db_error)?;
                let insert = sqlx::query(sqlx::AssertSqlSafe(INSERT_ONE.as_str()));
                let row = bind_new_credential(insert, &credential, at)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_error)?;
                let id: i64 = col(&row, "id")?;
                sqlx::query(
                    "UPDATE credentials SET test_credential_enabled = TRUE, version = version + 1, \
                     updated_at = $1 WHERE id = $2",
                )
                .bind(at)
                .bind(live_id)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
                tx.commit().await.map_err(db_error)?;
                Ok(credential.into_stored(id, at))
            }
        }
    };
}
