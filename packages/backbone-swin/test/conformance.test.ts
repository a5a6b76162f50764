import { describeBackboneConformance } from '@vpeft/core/testing';
import { createSwin } from '../src/index';

describeBackboneConformance({ name: 'Swin (swin_test_patch2_window2_32, random weights)', backbone: (seed) => createSwin('swin_test_patch2_window2_32', { seed }) });
