import { postgres } from '../support/databases';
import { describeModel } from './storage-model';

describeModel(postgres);
