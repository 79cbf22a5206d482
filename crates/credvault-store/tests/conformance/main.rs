//! The conformance suite of the [`Store`](credvault_store::Store) trait: every check runs
//! against each backend (SQLite, and PostgreSQL when a server is given) and asserts exact
//! values, so the two answer the same. A test is named for its backend and behaviour:
//! `sqlite::user_emails_are_unique`, `postgres::user_emails_are_unique`.
//!
//! PostgreSQL: `CREDVAULT_TEST_POSTGRES_URL` names a server without a database
//! (`postgres://credvault@127.0.0.1:PORT`, as `scripts/test` sets it); every test gets a fresh
//! database on it. Without it the PostgreSQL tests are skipped (said on stderr), unless
//! `CREDVAULT_TEST_REQUIRE_POSTGRES` is set: then they fail.

// Checks name their rows a, b, c… and count small known numbers; these pedantic lints would
// only add noise here.
#![allow(
    clippy::many_single_char_names,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap
)]

mod harness;
mod helpers;

mod api_keys;
mod audit;
mod concurrency;
mod credential_lists;
mod credential_updates;
mod credentials;
mod folders;
mod meta;
mod mint;
mod notifications;
mod teams;
mod test_credentials;
mod users;

/// Makes a test of every check on each backend: `mod sqlite` and `mod postgres`, each with one
/// `#[tokio::test]` per check, named as the check. The checks are listed by module:
/// `module { check, #[multi_thread] check, … }`; `#[multi_thread]` runs the test on 4 worker
/// threads instead of the default current-thread runtime.
macro_rules! on_backends {
    ($( $module:ident { $( $(#[$flavor:ident])? $check:ident ),* $(,)? } )*) => {
        mod sqlite {
            $( $( on_backends!(@test $($flavor)? Sqlite $module::$check); )* )*
        }
        mod postgres {
            $( $( on_backends!(@test $($flavor)? Postgres $module::$check); )* )*
        }
    };
    (@test multi_thread $kind:ident $module:ident :: $check:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $check() {
            crate::harness::run(crate::harness::Kind::$kind, crate::$module::$check).await
        }
    };
    (@test $kind:ident $module:ident :: $check:ident) => {
        #[tokio::test]
        async fn $check() {
            crate::harness::run(crate::harness::Kind::$kind, crate::$module::$check).await
        }
    };
}

on_backends! {
    meta {
        a_fresh_store_answers_a_ping,
        a_missing_meta_key_has_no_value,
        meta_is_written_once,
        meta_values_round_trip_every_byte,
        meta_keys_are_exact_and_case_sensitive,
        meta_is_replaced_only_from_the_value_expected,
    }
    users {
        there_are_no_users_at_first,
        users_are_created_active_and_never_seen,
        a_missing_user_is_not_found,
        user_emails_are_unique,
        users_are_listed_by_id_in_pages,
        touching_a_user_sets_last_seen_only,
        touching_a_missing_user_is_not_an_error,
        a_deactivated_user_is_inactive,
        an_inactive_users_keys_do_not_authenticate,
        deactivating_twice_changes_nothing,
        deactivating_a_missing_user_is_not_found,
        deactivating_the_last_admin_is_refused,
    }
    api_keys {
        api_keys_are_created_with_their_owner_and_name,
        an_api_key_is_found_by_its_exact_hash,
        api_key_hashes_are_unique,
        a_found_api_key_comes_with_its_user_as_it_is_now,
        only_the_owner_of_an_api_key_revokes_it,
        a_revoked_api_key_is_not_found,
        a_revoked_api_keys_hash_is_not_reused,
    }
    teams {
        there_are_no_teams_at_first,
        teams_are_created_as_given,
        team_slugs_are_unique,
        teams_are_found_by_id_and_exact_slug,
        a_membership_is_set_and_changed,
        a_team_comes_with_the_callers_role_only,
        teams_are_listed_by_id_in_pages,
        teams_are_listed_by_member,
        a_removed_member_has_no_role,
    }
    folders {
        folders_are_created_empty,
        a_folders_size_counts_its_live_credentials,
        folders_are_listed_by_team_and_member,
    }
    credentials {
        a_full_credential_round_trips,
        a_bare_credential_round_trips,
        a_missing_credential_has_no_view,
        credential_slugs_are_unique_per_team,
        a_duplicate_uid_is_not_a_slug_conflict,
        a_live_credential_is_found_by_its_issuer_id_only,
        no_credentials_no_counts_by_mode,
        live_credentials_are_counted_by_mode,
    }
    credential_lists {
        test_credentials_are_never_listed,
        listed_credentials_are_their_views,
        credentials_are_listed_by_filter,
        credentials_are_listed_in_pages_with_full_totals,
    }
    credential_updates {
        an_update_writes_every_mutable_column_and_bumps_the_version,
        an_update_at_another_version_writes_nothing,
        an_update_sets_optional_columns_again,
        an_update_onto_a_taken_slug_is_refused,
        an_update_of_a_missing_or_deleted_credential_writes_nothing,
        a_retiring_update_publishes_the_old_key_until_its_time,
        a_stale_retiring_update_records_nothing,
        at_most_the_newest_retired_keys_stay_published,
        due_rotations_are_the_live_credentials_past_their_time,
        a_missing_key_id_is_found_and_recorded_once,
    }
    notifications {
        due_credentials_are_those_whose_notify_at_has_come,
        a_plan_adds_its_messages_pending_and_moves_notify_at,
        a_plan_made_from_a_stale_notify_at_writes_nothing,
        plans_are_written_together_and_a_stale_one_is_skipped,
        each_message_exists_once,
        a_nearer_reminder_cancels_the_pending_earlier_ones,
        cancelling_keeps_the_current_date_and_what_was_sent,
        a_cancelled_message_planned_again_is_pending_again,
        a_claim_excludes_others_until_it_expires,
        a_failed_attempt_waits_for_its_retry,
        pending_messages_are_of_the_channels_asked_for,
        recipients_are_active_editors_of_the_team_or_admins_in_the_order_given,
        a_credentials_list_has_its_test_credentials_messages,
        deleting_a_credential_deletes_its_messages,
    }
    test_credentials {
        an_attached_test_credential_is_stored_as_given,
        attaching_a_test_credential_updates_the_live_one,
        a_second_test_credential_is_refused,
        a_test_credential_is_not_deleted_alone,
        deleting_a_credential_deletes_its_test_credential,
        a_deleted_credentials_slug_is_free_again,
    }
    mint {
        a_mint_context_has_the_caller_and_the_current_credential,
        an_admins_mint_context_needs_no_team,
        there_is_no_mint_context_without_a_key_and_a_live_credential,
        the_mint_context_follows_updates,
        revoking_a_key_takes_its_mint_context_away,
        mark_used_marks_exactly_the_given_credentials,
        mark_used_of_nothing_or_of_missing_ids_changes_nothing,
        mark_used_marks_again,
    }
    concurrency {
        #[multi_thread] one_of_racing_creates_of_a_slug_wins,
        #[multi_thread] concurrent_creates_of_distinct_slugs_all_succeed,
        a_failing_create_does_not_fail_concurrent_ones,
        #[multi_thread] one_of_racing_attaches_wins,
        #[multi_thread] one_of_racing_updates_at_a_version_applies,
    }
    audit {
        a_fresh_store_has_an_empty_chain,
        a_change_appends_its_record_with_every_field,
        a_system_record_has_no_actor_and_no_request,
        creates_add_the_id_they_made_to_the_inputs,
        a_subject_id_set_by_the_caller_is_kept,
        every_other_change_appends_one_entry_of_its_record,
        entries_form_a_chain,
        the_chain_is_read_in_windows,
        a_stale_update_records_nothing,
        a_change_of_a_missing_credential_records_nothing,
        revoking_an_unknown_key_records_nothing,
        removing_a_non_member_records_nothing,
        a_refused_meta_replace_records_nothing,
        deactivations_that_change_nothing_record_nothing,
        creates_that_conflict_record_nothing,
        creates_the_database_rejects_record_nothing,
        a_failing_create_among_concurrent_ones_records_only_the_others,
        #[multi_thread] concurrent_creates_each_record_one_entry,
        #[multi_thread] racing_creates_of_a_slug_record_only_the_winner,
        #[multi_thread] concurrent_writes_keep_the_chain_whole,
        the_stream_gets_exactly_the_appended_entries_in_order,
        #[multi_thread] the_stream_gets_concurrent_entries_in_chain_order,
        a_failing_stream_fails_creates_and_leaves_nothing,
        a_failing_stream_fails_changes_and_leaves_the_rows_as_they_were,
        a_failing_stream_fails_appends,
        after_a_failing_stream_the_chain_goes_on_without_a_gap,
        a_failing_stream_fails_every_create_of_a_batch,
        a_stream_refusing_one_entry_fails_only_its_change,
        appended_records_are_chained_in_one_go,
        appending_no_records_records_nothing,
        audit_logs_are_listed_newest_first_in_pages,
        audit_logs_are_filtered_by_time_strictly,
        audit_logs_are_filtered_by_users_and_operations,
        audit_log_filters_combine_and_page,
    }
}
