// tidemark config for the CRM Ditual's LEGACY state: both services still kept by Alembic, as they
// were before the reset. A plain object (no imports), so it loads from anywhere.
//
// On purpose there is no `requires` between the services: the budget history reaching into
// user_service (depends_on '1f4f4176aeb7', SQL on `users`) is exactly what `tidemark check` reports.
// No `versionTable` either: both env.py use Alembic's default, the shared `alembic_version`.
export default {
  services: {
    user_service: {
      format: 'alembic',
      migrations: 'services/user_service/alembic/versions',
      owns: ['users'],
    },
    budget_service: {
      format: 'alembic',
      migrations: 'services/budget_service/alembic/versions',
      owns: ['budgets', 'budget_items'],
    },
  },
};
