"""The GroupHash case: Sentry's Seer deletion task, its slow query and its fix."""
