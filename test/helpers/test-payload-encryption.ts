import type { PayloadEncryption } from '../../schemas/config.js';
import { flywheelDataConverter } from '../../workers/data-converter.js';

/**
 * The payload key every test server's client and every test worker share, so integration
 * tests run with encrypted histories as production does. A fixed key: a history a test
 * records (`npm run history:record`) stays readable by the replay test.
 */
export const TEST_PAYLOAD_ENCRYPTION: PayloadEncryption = {
  encrypt: true,
  keys: [{ id: 'flywheel-test', key: 'pRvT3zDq2cJm0zQ3ZkqS0m8v7PZfLx1G4y5nF0oE9hI=' }],
  source: 'test/helpers/test-payload-encryption.ts',
  keyFile: '/nonexistent/codec-keys',
};

export const testDataConverter = () => flywheelDataConverter(TEST_PAYLOAD_ENCRYPTION);
