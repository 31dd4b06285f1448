// tidemark config for the CRM Ditual example: two services sharing one PostgreSQL database.
// A plain object (no imports), so it loads from anywhere; in your own project you may wrap it in
// `defineConfig` from 'tidemark' for type checking.
// No `database` here: DATABASE_URL or --database choose one, else tidemark uses the embedded
// PGlite database at ./.tidemark/db.
export default {
  services: {
    user: {
      migrations: 'migrations/user',
      owns: ['users'],
      // The desired schema (written once by `tidemark baseline --service user --schema`): what a team edits.
      schema: 'schema/user.sql',
    },
    budget: {
      migrations: 'migrations/budget',
      owns: ['budgets', 'budget_items'],
      schema: 'schema/budget.sql',
      // budgets.user_id references users(id): the budget service may reference the user service's objects.
      requires: ['user'],
    },
  },
};
