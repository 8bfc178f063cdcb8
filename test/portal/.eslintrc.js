module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  rules: {
    // These tests put the frontend plugin in front of the backend plugin: mixing is their point.
    '@backstage/no-mixed-plugin-imports': 'off',
  },
});
