// The landing page: translated links to the three pages and the language switch.
import { initPage, languageButton } from './dom.js';
import { onLangChange } from './i18n.js';

const setTitle = initPage('home.title');
onLangChange(setTitle);
document.getElementById('lang-slot').appendChild(languageButton());
