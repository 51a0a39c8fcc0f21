import { sqlite } from '../support/databases';
import { describeModel } from './storage-model';

describeModel(sqlite);
