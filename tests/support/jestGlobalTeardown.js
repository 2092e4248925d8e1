'use strict';
module.exports = require('./jestTmp').teardown;
