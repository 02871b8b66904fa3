/** The in-memory checkpoint store passes the same contract suite as the Redis store. */
import { describeCheckpointStoreContract } from '../../../test/integration/redis/checkpoint-store.contract';
import { MemoryCheckpointStore } from './memory-checkpoint-store';

describeCheckpointStoreContract('memory', { make: (limits) => new MemoryCheckpointStore(limits) });
