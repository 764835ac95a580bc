import { Type } from '@sinclair/typebox';
import { Size } from '../../config/schema.js';

export const RequestSizeConfig = Type.Object({ limit: Size() }, { additionalProperties: false });
