// lpsaring progressive enhancement: every page works without this file.
(function(){
  // <form data-confirm="Sure?">: ask before a destructive post.
  document.addEventListener('submit',function(e){
    var m=e.target.getAttribute&&e.target.getAttribute('data-confirm');
    if(m&&!window.confirm(m)){e.preventDefault();}
  });
  // <button data-copy="text">: copy to the clipboard, then say so briefly.
  document.addEventListener('click',function(e){
    var b=e.target.closest&&e.target.closest('[data-copy]');
    if(!b||!navigator.clipboard)return;
    e.preventDefault();
    navigator.clipboard.writeText(b.getAttribute('data-copy')).then(function(){
      var t=b.textContent;b.textContent=b.getAttribute('data-copied')||'\u2713';
      setTimeout(function(){b.textContent=t;},1500);
    });
  });
  // <select data-autosubmit>: submit its form on change (a button stays for no-JS).
  document.addEventListener('change',function(e){
    if(e.target.hasAttribute&&e.target.hasAttribute('data-autosubmit')&&e.target.form){e.target.form.submit();}
  });
})();
